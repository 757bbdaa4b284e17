"""PFNR (Kang et al., "Progressive Fourier Neural Representation for Sequential Video Compilation",
ICLR 2024): one NeRV-style network holds many videos. Video ``s`` uses a sparse subnetwork
``W * M_s`` chosen by learned scores (top ``capacity`` of each tensor, straight-through gradients),
its own 1x1 RGB head, and the codes of its frame index and of its video index. Weights that earlier
videos selected are frozen, and later videos may select (reuse) them, so earlier videos decode
exactly as before while a new one adds only its newly claimed weights, its mask and its head.

One stage is an f-NeRV block: its 3x3 conv + PixelShuffle branch is added to a Fourier subneural
operator (FSO), whose masked weights live in the frequency domain of the block's input features.
This module is the network only; the archive's byte layout lives in :mod:`nvcodec.format.archive`
and the sessions (frozen weights, appending) in :mod:`nvcodec.pipeline.progressive`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nvcodec.models.base import ProgressiveModel, Recipe, VideoGridConfig
from nvcodec.models.layers import positional_encoding, stage_widths
from nvcodec.models.registry import register

FSO_NAMES = ("fso_re0", "fso_im0", "fso_re1", "fso_im1")


@dataclass(frozen=True)
class PFNRConfig(VideoGridConfig):
    """Everything the decoder needs to rebuild a PFNR network: the fields of
    :class:`VideoGridConfig` (``frames``: frames of the first video; each video's own count is in
    its header) and these.

    Attributes:
        stem_dim: hidden width of the two-layer MLP stem (GELU, no bias, masked).
        pe_levels: positional-encoding frequencies L of each code (frame and video: 4L inputs).
        pe_base: positional-encoding base b.
        reduce: width divisor from one stage to the next.
        lower_width: smallest stage width.
        capacity: fraction c of every masked tensor that each video's subnetwork selects.
        max_videos: the archive's largest video count; video s is coded as (s + 1) / (max_videos + 1).
        fso_stage: index of the f-NeRV stage (conv branch + FSO); -1 for none (plain WSN backbone).
        fso_fraction: fraction of the block input's frequencies kept per axis (1.0: every mode, as released).
        fso_only: the f-NeRV stage is the FSO alone (the released code) instead of conv + FSO.
        seed: seed of the initial weights; weights no video has claimed are regenerated from it.
    """

    stem_dim: int = 128
    pe_levels: int = 40
    pe_base: float = 1.25
    reduce: float = 2.0
    lower_width: int = 12
    capacity: float = 0.5
    max_videos: int = 64
    fso_stage: int = 1
    fso_fraction: float = 0.5
    fso_only: bool = False
    seed: int = 0


class _TopC(torch.autograd.Function):
    """Binary mask of the ``k`` largest scores; the backward pass hands the gradient straight through."""

    @staticmethod
    def forward(ctx: object, scores: torch.Tensor, k: int) -> torch.Tensor:  # noqa: D102
        return top_mask(scores, k).to(scores.dtype)

    @staticmethod
    def backward(ctx: object, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # noqa: D102
        return grad, None


def top_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the ``k`` largest entries of ``scores`` (same shape)."""
    flat = torch.zeros(scores.numel(), dtype=torch.bool, device=scores.device)
    flat[torch.topk(scores.detach().flatten(), k).indices] = True
    return flat.view(scores.shape)


def fso_modes(config: PFNRConfig, grid: tuple[int, int]) -> tuple[int, int]:
    """Rows per frequency block and columns kept by the FSO for an input grid (h, w)."""
    h, w = grid
    return max(1, int(h // 2 * config.fso_fraction)), max(1, int(w // 2 * config.fso_fraction))


def fourier_operator(x: torch.Tensor, w: list[torch.Tensor], out_size: tuple[int, int]) -> torch.Tensor:
    """The FSO: mix channels per frequency of ``x`` (N x Ci x h x w) with the complex weights
    ``w = [re0, im0, re1, im1]`` (Ci x Co x mh x mw) on the lowest ``mh`` positive and negative row
    frequencies and the lowest ``mw`` column frequencies, then invert at ``out_size`` (zero-padding
    the spectrum up-samples). Forward-normalized FFT, always in float32."""
    with torch.autocast(device_type=x.device.type, enabled=False):
        spec = torch.fft.rfft2(x.float(), norm="forward")
        mh, mw = w[0].shape[2:]
        height, width = out_size
        out = torch.zeros(x.shape[0], w[0].shape[1], height, width // 2 + 1, dtype=spec.dtype, device=x.device)
        low = torch.complex(w[0].float(), w[1].float())
        high = torch.complex(w[2].float(), w[3].float())
        out[:, :, :mh, :mw] = torch.einsum("nihw,iohw->nohw", spec[:, :, :mh, :mw], low)
        out[:, :, height - mh :, :mw] = torch.einsum("nihw,iohw->nohw", spec[:, :, -mh:, :mw], high)
        return torch.fft.irfft2(out, s=out_size, norm="forward")


@register("pfnr", 8, progressive=True)
class PFNR(ProgressiveModel):
    """PFNR: (frame, video) codes -> masked MLP stem -> masked NeRV / f-NeRV blocks -> video's head.

    The stem uses GELU where the release hard-wires ReLU (measured on Bunny 80x160, 33-frame
    segments, 0.2 bpp, 100 epochs: 22.55 -> 22.67 dB for a first video, 21.13 -> 21.54 for a second).

    ``weights`` holds every maskable tensor (shared by all videos); ``head`` is the current video's.
    Decoding uses fixed masks (:meth:`use_masks`); training learns ``scores`` (:meth:`new_scores`;
    built ``with_encoder``, the model starts with scores, as the trainable form of every model does).
    """

    config_cls = PFNRConfig

    recipe = Recipe(
        lr=5e-3, loss="fusion6"
    )  # the paper's 5e-4 under-trains our small CPU-scale networks (16.2 vs 22.6 dB, see README)

    def __init__(self, config: PFNRConfig, with_encoder: bool = False) -> None:
        super().__init__()
        self.config = config
        self.widths = stage_widths(config.c0, len(config.strides), config.reduce, config.lower_width)
        self.weights = nn.ParameterDict({n: nn.Parameter(torch.empty(s)) for n, s in self.masked_shapes().items()})
        self.head = nn.Parameter(torch.empty(3, self.widths[-1]))
        self.scores: nn.ParameterDict | None = None
        self.masks: dict[str, torch.Tensor] | None = None
        self.video, self.video_frames = 0, config.frames
        if self.head.device.type != "meta":
            self.reset_parameters()
            if with_encoder:  # trainable as built: selection scores for a first video
                self.new_scores(torch.Generator().manual_seed(config.seed + 1))

    @classmethod
    def default_config(
        cls, height: int, width: int, frames: int, strides: tuple[int, ...], c0: int, params: int = 0, **fields: Any
    ) -> PFNRConfig:
        """The config for a padded frame size, frame count, strides and stem width; the MLP's hidden
        width follows the stem width (4 x c0, between 16 and 128) as in our NeRV (unless ``fields``
        sets it; ``fields`` sets any other field too)."""
        fields.setdefault("stem_dim", max(16, min(128, 4 * c0)))
        return PFNRConfig(height=height, width=width, frames=frames, strides=strides, c0=c0, **fields)

    def masked_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the masked tensors, in file order."""
        c, widths = self.config, self.widths
        gh, gw = c.grid
        shapes: dict[str, tuple[int, ...]] = {
            "fc1": (c.stem_dim, 4 * c.pe_levels),
            "fc2": (c.c0 * gh * gw, c.stem_dim),
        }
        for i, s in enumerate(c.strides):
            if not (i == c.fso_stage and c.fso_only):
                shapes[f"conv{i}"] = (widths[i + 1] * s * s, widths[i], 3, 3)
        if 0 <= c.fso_stage < len(c.strides):
            grid = (gh * math.prod(c.strides[: c.fso_stage]), gw * math.prod(c.strides[: c.fso_stage]))
            mh, mw = fso_modes(c, grid)
            for name in FSO_NAMES:
                shapes[name] = (widths[c.fso_stage], widths[c.fso_stage + 1], mh, mw)
        return shapes

    def kept(self, numel: int) -> int:
        """How many entries of a tensor of ``numel`` values each video's mask selects: the
        ``capacity`` fraction, rounded, at least one."""
        return max(1, min(numel, round(self.config.capacity * numel)))

    def bound(self, name: str) -> float:
        """Initialization bound of a masked tensor: He-uniform for the kept fraction of the fan-in,
        ``sqrt(6 / (c * fan_in))`` (input channels for the FSO), so activations keep their scale
        through the sparse subnetwork."""
        shape = self.weights[name].shape
        fan_in = shape[0] if name.startswith("fso") else math.prod(shape[1:])
        return math.sqrt(6.0 / (self.config.capacity * fan_in))

    def reset_parameters(self) -> None:
        """Initialize every weight (see :meth:`bound`) and the head (+-1/sqrt(fan-in)) from ``config.seed``
        alone (so the weights no video has claimed can be regenerated from the file)."""
        gen = torch.Generator().manual_seed(self.config.seed)
        with torch.no_grad():
            for name, w in self.weights.items():
                w.uniform_(-self.bound(name), self.bound(name), generator=gen)
            self.head.uniform_(-1 / math.sqrt(self.head.shape[1]), 1 / math.sqrt(self.head.shape[1]), generator=gen)

    def set_video(self, video: int, frames: int) -> None:
        """Which video the network renders: its index in the archive and its frame count."""
        if not 0 <= video < self.config.max_videos:
            raise ValueError(f"video index {video} outside 0..{self.config.max_videos - 1}")
        self.video, self.video_frames = video, frames

    def new_scores(self, generator: torch.Generator) -> None:
        """Fresh random selection scores (one per weight) for learning the next video's mask."""
        scores = {}
        for name, w in self.weights.items():
            s = torch.empty(w.shape).uniform_(-self.bound(name), self.bound(name), generator=generator)
            scores[name] = nn.Parameter(s.to(w.device))
        self.scores, self.masks = nn.ParameterDict(scores), None

    def use_masks(self, masks: dict[str, torch.Tensor]) -> None:
        """Fix the subnetwork (boolean masks per weight tensor) for decoding; drops any scores.
        The masks go to the weights' current device: move the model first."""
        self.masks = {n: m.to(self.weights[n].device, torch.float32) for n, m in masks.items()}
        self.scores = None

    def hard_masks(self) -> dict[str, torch.Tensor]:
        """The current subnetwork: the top-c scores of every tensor (boolean, on the CPU)."""
        if self.scores is None:
            raise RuntimeError("no scores: call new_scores first")
        return {n: top_mask(s.abs(), self.kept(s.numel())).cpu() for n, s in self.scores.items()}

    def effective_weights(self) -> dict[str, torch.Tensor]:
        """``W * M`` for every masked tensor (fixed masks, or straight-through top-c of the scores)."""
        if self.masks is not None:
            return {n: w * self.masks[n] for n, w in self.weights.items()}
        if self.scores is None:
            raise RuntimeError("PFNR needs masks or scores before it can run")
        return {n: w * _TopC.apply(self.scores[n].abs(), self.kept(w.numel())) for n, w in self.weights.items()}

    def transmitted_parameters(self) -> dict[str, nn.Parameter]:
        """The shared masked tensors (``weights.*``) and the current video's head."""
        return {f"weights.{n}": p for n, p in self.weights.items()} | {"head": self.head}

    def prunable_parameters(self) -> dict[str, nn.Parameter]:
        """None: PFNR's sparsity is its learned mask."""
        return {}

    def transmitted_count(self) -> int:
        """Values the first video transmits: the selected fraction of every tensor, and its head."""
        return sum(self.kept(math.prod(s)) for s in self.masked_shapes().values()) + self.head.numel()

    def embedding_shapes(self) -> dict[str, tuple[int, ...]]:
        """PFNR transmits nothing per frame."""
        return {}

    def encode_frames(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        """PFNR has no encoder: no embeddings."""
        return {}

    def codes(self, index: torch.Tensor) -> torch.Tensor:
        """Positional codes of frame ``t / T`` and video ``(s + 1) / (max_videos + 1)``, N x 4L."""
        c = self.config
        t = index.float() / self.video_frames
        s = torch.full_like(t, (self.video + 1) / (c.max_videos + 1))
        codes = [positional_encoding(v, c.pe_levels, c.pe_base) for v in (t, s)]
        return torch.cat(codes, dim=1)

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frames of the current video for integer frame indices ``index`` (N,)."""
        c, w = self.config, self.effective_weights()
        x = F.gelu(F.linear(F.gelu(F.linear(self.codes(index), w["fc1"])), w["fc2"]))
        x = x.view(-1, c.c0, *c.grid)
        for i, s in enumerate(c.strides):
            out_size = (x.shape[2] * s, x.shape[3] * s)
            y = None if f"conv{i}" not in w else F.pixel_shuffle(F.conv2d(x, w[f"conv{i}"], padding=1), s)
            if i == c.fso_stage:
                f = fourier_operator(x, [w[n] for n in FSO_NAMES], out_size).to(x.dtype)
                y = f if y is None else y + f
            x = F.silu(y)
        return torch.tanh(F.conv2d(x, self.head[:, :, None, None])) * 0.5 + 0.5
