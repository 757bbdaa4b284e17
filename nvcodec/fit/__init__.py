"""Fitting a model to a video: the training loop, learning-rate schedule and losses."""

from nvcodec.fit.losses import make_loss
from nvcodec.fit.train import FitConfig, FrameSource, export_embeddings, fit, lr_factor

__all__ = [
    "FitConfig",
    "FrameSource",
    "export_embeddings",
    "fit",
    "lr_factor",
    "make_loss",
]
