"""Global camera motion: per-frame affine maps onto a shot's anchor frame, their fixed-point form
(:mod:`~nvcodec.motion.affine`, shared by encoder and decoder), and their estimation from the frames
(:mod:`~nvcodec.motion.estimate`, encoder side only, with OpenCV)."""

from nvcodec.motion.affine import dequantize_affine, quantize_affine
from nvcodec.motion.estimate import MODELS, Motion, estimate_motion

__all__ = ["MODELS", "Motion", "dequantize_affine", "estimate_motion", "quantize_affine"]
