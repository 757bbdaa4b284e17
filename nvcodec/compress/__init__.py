"""Model compression stages as pure tensor code: pruning masks, per-channel quantization, tensor records.

Nothing here knows a model class; callers pass named arrays.
"""

from nvcodec.compress.codec import read_qtensor, write_qtensor
from nvcodec.compress.masks import read_mask, write_mask
from nvcodec.compress.prune import global_magnitude_masks
from nvcodec.compress.quantize import QTensor, quantize, quantize_best_axis

__all__ = [
    "QTensor",
    "global_magnitude_masks",
    "quantize",
    "quantize_best_axis",
    "read_mask",
    "read_qtensor",
    "write_mask",
    "write_qtensor",
]
