"""Model compression as tensor maths: pruning masks and per-channel quantization.

Nothing here knows a model class or a byte layout; callers pass named arrays, and
:mod:`nvcodec.format` turns the quantized tensors into bytes.
"""

from nvcodec.compress.prune import global_magnitude_masks
from nvcodec.compress.quantize import Coding, DepthCache, QTensor, quantize, quantize_best_axis

__all__ = ["Coding", "DepthCache", "QTensor", "global_magnitude_masks", "quantize", "quantize_best_axis"]
