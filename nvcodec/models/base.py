"""The interfaces every registered model implements: :class:`NeuralVideoModel` (one video per
file entry) and :class:`ProgressiveModel` (one network that grows by a video at a time)."""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from nvcodec.models.layers import grid_candidates
from nvcodec.models.planes import Planes

Grid = tuple[tuple[int, ...], int, int]
"""Decoder strides and the padded frame height and width they make."""


@dataclass(frozen=True)
class Recipe:
    """A model's reference training settings (its paper's or its authors' release's).

    Attributes:
        lr: peak learning rate.
        loss: training loss, by name (:data:`nvcodec.fit.losses.LOSSES`).
        optimizer: ``adam`` or ``adan``.
        betas: Adam's betas.
        clip: largest gradient norm of a step (0: no clipping).
        warmup: fraction of the steps warming up linearly from 0.1 x lr before the cosine decay.
        warm_share: share of a rate–distortion encode's epochs in its distortion-only warm-up
            (:class:`~nvcodec.pipeline.training.Training` may set it for every model).
    """

    lr: float = 1e-3
    loss: str = "l2"
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    clip: float = 0.0
    warmup: float = 0.1
    warm_share: float = 0.5


@dataclass(frozen=True)
class VideoGridConfig:
    """The fields every model config starts with (each model's config adds its own).

    Attributes:
        height: network output height (the frame height padded as the model's grid rule requires).
        width: network output width (padded likewise).
        frames: number of frames T (of transmitted per-frame tensors; NeRV feeds t = i / T).
        strides: up-sampling factor of each decoder stage.
        c0: channel width of the first decoder stage; solved from the parameter budget.
    """

    height: int
    width: int
    frames: int
    strides: tuple[int, ...]
    c0: int

    @property
    def grid(self) -> tuple[int, int]:
        """Height and width of the smallest feature grid (the embedding's, for HNeRV-style models)."""
        s = math.prod(self.strides)
        return self.height // s, self.width // s


class NeuralVideoModel(nn.Module, abc.ABC):
    """A neural video representation split into what is transmitted and what is not.

    Transmitted: every parameter except those under ``encoder`` (the training-only frame encoders),
    plus the per-frame embeddings named by :meth:`embedding_shapes` (every per-frame tensor the file
    carries, the ``EMBD`` section). ``recipe`` is the model's reference training settings.
    ``context`` is how many neighbouring frames before and after the current one
    the encoder reads (they arrive stacked along channels: previous, current, next).
    ``embedding_min_bits`` gives some embeddings a quantization floor. ``layout_field`` names the
    config field (channels of the per-frame embedding) that a rate-aware sizing may lower, or moves
    to a coarser grid for (see :func:`~nvcodec.models.sizing.embedding_layout`); None where the
    model's per-frame tensors are not all governed by it, so its layout stays the paper's.
    """

    spec: Any
    config: Any
    config_cls: ClassVar[type]
    """The model's config dataclass (each registered class declares its own)."""
    recipe: Recipe = Recipe()
    context: int = 0
    embedding_min_bits: dict[str, int] = {}
    layout_field: str | None = None
    tapers_lower_width: bool = True
    """Whether sizing may lower the config's ``lower_width`` for tiny budgets
    (:func:`~nvcodec.models.sizing.solve_config`); False where the model sets it from the budget."""
    pixel_step_seconds: ClassVar[float] = 0.0
    """Seconds a training step costs per pixel it renders (:meth:`rendered_pixels`) on the
    reference machine beyond its counted operations (:mod:`~nvcodec.pipeline.effort`): work
    PyTorch's flop counter does not see (interpolation, gathers, element-wise maths), where it is
    most of a step."""
    fixed_c0: ClassVar[int | None] = None
    """A first width that does not follow the budget (sizing keeps it and fits nothing): set by a
    model whose rate is carried by values the fit prices, not by its size (``canvas``)."""
    refine_field: str | None = "reduce"
    """The config field sizing moves by up to 8% when integer stem widths land too far from the
    budget (:func:`~nvcodec.models.sizing.solve_config`); None: no refinement."""

    grid_options = staticmethod(grid_candidates)
    """Decoder stride lists and padded frame sizes for a frame size, best first (see
    :func:`~nvcodec.models.layers.grid_candidates`)."""

    @classmethod
    def grid_for(cls, height: int, width: int) -> tuple[tuple[int, ...], int, int]:
        """Decoder strides and padded frame size for a frame size: the first of :attr:`grid_options`."""
        return cls.grid_options(height, width)[0]

    @classmethod
    def grids(cls, height: int, width: int, fields: dict[str, Any]) -> list[Grid]:
        """The grids (:attr:`grid_options`, best first) for a frame size and the config ``fields``
        set before sizing (a model whose output stage changes the decoder's size reads them)."""
        return cls.grid_options(height, width)

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> Any:
        """The model's config for a padded frame size, frame count, strides and first width, ``fields``
        set as given and the others at their defaults (``params``, the budget being solved for, lets a
        model scale fields with it)."""
        return cls.config_cls(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)

    @classmethod
    def value_count(cls, config: Any) -> int | None:
        """The transmitted values of the model of ``config`` counted from the config alone, for
        sizing's searches, which ask hundreds of times (a skeleton costs milliseconds); None: they
        are counted on a skeleton. Only the class that defines it is counted so (a subclass that
        adds parameters falls back to its skeleton)."""
        return None

    @classmethod
    def rendered_pixels(cls, config: Any) -> int:
        """Pixels one frame's training step renders: the frame (a canvas model: its canvas)."""
        return int(config.height * config.width)

    @abc.abstractmethod
    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the transmitted per-frame tensors (first axis: frames)."""

    @abc.abstractmethod
    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """Embeddings of a batch of frames in [0, 1] (training encoder)."""

    @abc.abstractmethod
    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames N x 3 x H x W in [0, 1] from frame indices and their embeddings."""

    def decode_planes(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> Planes | None:
        """A model with its own 4:2:0 output stage, while it is on: the stage's :class:`Planes`,
        which :meth:`decode` repeats to frame size (a fit reads them as they are). None: the
        model has no such output (every frame comes from :meth:`decode`)."""
        return None

    def forward(self, index: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Training pass: encode the frames (if the model has an encoder) and decode them."""
        return self.decode(index, self.encode_frames(frames))

    def transmitted_parameters(self) -> dict[str, nn.Parameter]:
        """Parameters that go into the file, in a fixed order (encoder excluded)."""
        return {n: p for n, p in self.named_parameters() if not n.startswith(("encoder.", "encoder_"))}

    def grid_parameters(self) -> list[str]:
        """Names of the transmitted parameters that are feature grids (channels x time steps x
        height x width), which the rate–distortion fit codes with the grid context model."""
        return []

    def prunable_parameters(self) -> dict[str, nn.Parameter]:
        """Weights that pruning may zero: conv and linear kernels except the RGB head."""
        return {n: p for n, p in self.transmitted_parameters().items() if p.dim() > 1 and "head" not in n}

    def transmitted_count(self) -> int:
        """Number of transmitted values: decoder parameters plus per-frame embeddings."""
        n = sum(p.numel() for p in self.transmitted_parameters().values())
        return n + sum(math.prod(s) for s in self.embedding_shapes().values())


class ProgressiveModel(NeuralVideoModel):
    """A network that holds many videos of one archive (PFNR): video ``s`` runs the subnetwork its
    boolean masks select from the shared ``weights``, plus a head of its own.

    Weights an earlier video selected are frozen for later videos (they may reuse them), so
    appending a video never changes an earlier one. Training a video learns selection scores
    (:meth:`new_scores`, :meth:`hard_masks`); decoding fixes the masks (:meth:`use_masks`).
    ``weights`` maps each masked tensor's name to its parameter; ``head`` is the current video's.
    """

    weights: nn.ParameterDict
    head: nn.Parameter

    @abc.abstractmethod
    def masked_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the masked (shared) tensors, in file order."""

    @abc.abstractmethod
    def kept(self, numel: int) -> int:
        """How many entries of a masked tensor of ``numel`` values each video's mask selects."""

    @abc.abstractmethod
    def set_video(self, video: int, frames: int) -> None:
        """Which video the network renders: its index in the archive and its frame count."""

    @abc.abstractmethod
    def new_scores(self, generator: torch.Generator) -> None:
        """Fresh selection scores for learning the next video's masks."""

    @abc.abstractmethod
    def hard_masks(self) -> dict[str, torch.Tensor]:
        """The masks the current scores select (boolean, on the CPU)."""

    @abc.abstractmethod
    def use_masks(self, masks: dict[str, torch.Tensor]) -> None:
        """Fix the subnetwork to ``masks`` (boolean per masked tensor) for decoding."""
