"""Every choice a user can make for an encode or an append, each default stated once, validated
once (when the options are made), and the device they name."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from nvcodec.errors import NvcError, UsageError
from nvcodec.fit import FitConfig
from nvcodec.models import ModelSpec, spec
from nvcodec.models.base import Recipe
from nvcodec.motion.affine import SHIFT_BITS
from nvcodec.pipeline import effort
from nvcodec.pipeline.training import Training

DEFAULT_BPP = 0.05
DEVICES = ("auto", "cpu", "cuda")
CAMERAS = ("translation", "rotzoom", "affine", "none")
"""Camera-motion models a motion model can code (``none``: a frame-sized canvas)."""
DEFAULT_CAMERA = "rotzoom"
"""What a motion model codes unless told: shift, zoom and rotation (the estimator's most exact
model on zooms and rotations: docs/2026-12-06-motion.md)."""
MAX_BPP = 24.0
"""The largest budget: 24 bits per pixel is 8-bit RGB uncompressed."""
MAX_PARAMS = 1 << 28
"""The largest model (transmitted values) a file may hold; the reader refuses more."""
AUTO = "auto"
"""The ``--model`` that lets the encoder choose, clip by clip (or segment by segment)."""
AUTO_MODELS = ("hnerv", "canvas")
"""What ``auto`` chooses between: the model for any clip, then the one for a still scene under a
moving or still camera (its options are validated as the first's until the clip decides)."""
MAX_EPOCHS = 100_000
MAX_BATCH = 1024
MAX_THREADS = 1024
MIN_PATCH, MAX_PATCH = 16, 4096


@dataclass(frozen=True)
class EncodeOptions:
    """Every encoder choice a user can make (the CLI passes only what the user gave).

    Attributes:
        model: registered model name, or ``auto`` (:data:`AUTO`): the encoder chooses per clip
            between :data:`AUTO_MODELS` (:func:`~nvcodec.pipeline.camera.choose_model`).
        bpp: file-size budget in bits per pixel (exclusive with ``params``); when neither is
            given the budget is ``DEFAULT_BPP`` (see :attr:`budget_bpp`). For an append: the bits
            per pixel of what the video adds.
        params: transmitted values (weights + embeddings) when sizing directly.
        preset: ``fast``, ``medium`` or ``slow``: seconds of fitting on the reference machine,
            made epochs by :meth:`for_video` (:mod:`~nvcodec.pipeline.effort`).
        epochs: explicit epoch count, overriding the preset.
        prune: fraction of weights removed; None lets rate control pick (0 with ``params``).
        weight_bits: quantization depth of weights; None lets rate control pick (8 with ``params``).
        embed_bits: quantization depth of embeddings; None lets rate control pick (6 with ``params``).
        batch_size: frames per optimizer step (1, HNeRV's setting: at a given epoch count it fits better than 2).
        lr: peak learning rate; None takes the model's reference value.
        seed: seed of initialization and frame order.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        capacity: progressive models: fraction of each tensor a video selects; None: the model
            config's default.
        max_videos: progressive models: most videos the archive may hold; None: the config's default.
        rd: fit for rate and distortion (learned steps, per-slice Laplace entropy models, frame
            residuals for embeddings): one-video models do unless ``rd`` is False or, with ``rd``
            None, ``prune``, ``weight_bits`` or ``embed_bits`` is given; progressive models only
            with ``rd`` True (each video's new weights and head). Otherwise fit for distortion,
            then prune and pick bit depths by packing.
        lam: a fixed rate weight λ (distortion + λ x bpp) instead of steering λ to the budget;
            ``--bpp`` then only sizes the model and the file lands where λ puts it.
        patch: side in pixels of the square patches each training step fits (models that
            decode windows: hinerv); None: whole frames.
        time: seconds the encode may take (``--time``): the encoder times its own steps and
            plans the epochs to fill them (:mod:`~nvcodec.pipeline.timing`), instead of the
            preset's epochs; rate–distortion encodes of whole frames only.
        recipe: training settings replacing the model's reference recipe (ablations train every
            model with one recipe); None: the model's own.
        training: the stages' schedule and the rate term's settings (:class:`Training`).
        threads: CPU threads of the fit (``--threads``); None: the cores other processes leave
            free, sampled when the encode starts and, timed, before every stage
            (:mod:`~nvcodec.pipeline.threads`). The same seed gives the same file at the same
            thread count.
        yuv: fit the source's own Y, U and V planes (``--yuv``: 4:2:0 chroma at half size, the
            source's bit depth; :mod:`nvcodec.models.planes`) instead of 8-bit RGB (``--rgb``);
            needs a yuv420p, yuv420p10le or yuv444p source. None: the planes of such a source
            where the options allow it, RGB otherwise (:func:`~nvcodec.pipeline.planes.native_fit`).
        camera: the camera-motion model a motion model (``hinerv-mc``) estimates and codes:
            ``translation``, ``rotzoom`` (shift, zoom and rotation) or ``affine``; ``none`` gives
            it a frame-sized canvas (no motion). None: ``rotzoom`` (:data:`DEFAULT_CAMERA`).
        motion_bits: fractional bits of translation the encoder rounds the camera maps to (6:
            1/64 px, the file's step; 2: 1/4 px; 0: whole pixels; the linear part's step is coarsened
            alike): coarser maps cost fewer side bytes and warp less exactly (the benchmark's ablation).
        spec: the registry's spec of ``model`` (derived, not an option).
        recipe_warmup: whether ``training.warmup_share`` was taken from the model's recipe (derived:
            a model chosen later, by ``auto``, takes its own).
    """

    model: str = AUTO
    bpp: float | None = None
    params: int | None = None
    preset: str = "medium"
    epochs: int | None = None
    prune: float | None = None
    weight_bits: int | None = None
    embed_bits: int | None = None
    batch_size: int = 1
    lr: float | None = None
    seed: int = 0
    device: str = "auto"
    capacity: float | None = None
    max_videos: int | None = None
    rd: bool | None = None
    lam: float | None = None
    patch: int | None = None
    time: float | None = None
    recipe: Recipe | None = None
    training: Training = Training()
    threads: int | None = None
    camera: str | None = None
    motion_bits: int = SHIFT_BITS
    yuv: bool | None = None
    spec: ModelSpec = field(init=False, repr=False, compare=False)
    recipe_warmup: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", spec(AUTO_MODELS[0] if self.model == AUTO else self.model))
        if self.training.warmup_share is None:  # the recipe's (auto: the first model's until the clip chooses)
            share = (self.recipe or self.spec.model_cls.recipe).warm_share
            object.__setattr__(self, "training", replace(self.training, warmup_share=share))
            object.__setattr__(self, "recipe_warmup", True)
        _validate(self)

    @property
    def budget_bpp(self) -> float | None:
        """The bpp budget in force: ``bpp``, or ``DEFAULT_BPP`` when sizing is not by ``params``."""
        if self.bpp is not None:
            return self.bpp
        return None if self.params is not None else DEFAULT_BPP

    @property
    def uses_rd(self) -> bool:
        """Whether the encode fits for rate and distortion (see ``rd``)."""
        if self.rd is False or (self.spec.progressive and self.rd is None):
            return False
        return self.rd is True or (self.prune, self.weight_bits, self.embed_bits) == (None, None, None)

    @property
    def planned_epochs(self) -> int:
        """The epochs to fit: ``epochs`` as given or as :meth:`for_video` resolved the preset."""
        if self.epochs is None:
            raise ValueError("the preset is not resolved into epochs yet (EncodeOptions.for_video)")
        return self.epochs

    def for_video(self, frames: int, height: int, width: int, config: Any) -> EncodeOptions:
        """These options for a clip of ``frames`` x ``height`` x ``width`` fitted by the model of
        ``config``: the preset resolved into the epochs its seconds buy on the reference machine
        (:mod:`~nvcodec.pipeline.effort`: the same epochs on every machine). Unchanged with
        ``epochs`` or ``time`` given."""
        if self.epochs is not None or self.time is not None:
            return self
        seconds = effort.preset_seconds(self.preset, frames * height * width)
        epochs = effort.epochs_for(seconds, self.spec, config, frames, self.batch_size, self.training)
        return replace(self, epochs=epochs)

    def fit_config(self, epochs: int) -> FitConfig:
        """The training settings for ``epochs`` epochs: the model's recipe, or ``recipe`` if given
        (its lr times ``training.lr_scale`` unless ``lr`` is given), with ``training``'s optimizer
        and schedule settings."""
        recipe, training = self.recipe or self.spec.model_cls.recipe, self.training
        return FitConfig(
            epochs=epochs,
            lr=self.lr if self.lr is not None else recipe.lr * training.lr_scale,
            batch_size=self.batch_size,
            warmup=recipe.warmup if training.lr_warmup is None else training.lr_warmup,
            loss=recipe.loss,
            optimizer=training.optimizer or recipe.optimizer,
            betas=recipe.betas,
            clip=recipe.clip,
            seed=self.seed,
            patch=self.patch or 0,
            fused=self.training.fused_adam,
            plane_shares=self.training.plane_shares,
            plane_memory=self.training.plane_memory,
        )


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


def _validate(options: EncodeOptions) -> None:
    """Reject inconsistent or out-of-range options with a one-line usage error, before any work."""
    if options.spec.progressive:
        _validate_progressive(options)
    else:
        _check(
            options.capacity is None and options.max_videos is None,
            f"--capacity and --max-videos apply to progressive models (pfnr), not {options.model}",
        )
    _validate_size(options)
    presets = effort.PRESET_SECONDS
    _check(options.preset in presets, f"--preset {options.preset}: use {', '.join(presets)}")
    if options.epochs is not None:
        _check(1 <= options.epochs <= MAX_EPOCHS, f"--epochs {options.epochs}: must be in 1..{MAX_EPOCHS}")
    if options.prune is not None:
        _check(0.0 <= options.prune < 1.0, f"--prune {options.prune}: the fraction removed must be in [0, 1)")
    for flag, bits in (("--weight-bits", options.weight_bits), ("--embed-bits", options.embed_bits)):
        _check(bits is None or 2 <= bits <= 16, f"{flag} {bits}: must be in 2..16")
    _check(1 <= options.batch_size <= MAX_BATCH, f"--batch-size {options.batch_size}: must be in 1..{MAX_BATCH}")
    if options.lr is not None:
        _check(math.isfinite(options.lr) and 0 < options.lr <= 1, f"--lr {options.lr}: must be in (0, 1]")
    _check(0 <= options.seed < 1 << 32, f"--seed {options.seed}: must be in 0..{(1 << 32) - 1}")
    if options.threads is not None:
        _check(1 <= options.threads <= MAX_THREADS, f"--threads {options.threads}: must be in 1..{MAX_THREADS}")
    _check(options.device in DEVICES, f"--device {options.device}: use {', '.join(DEVICES)}")
    _validate_camera(options)
    if options.yuv:
        _check(not options.spec.progressive, "--yuv: pfnr archives code RGB")
        _check(options.patch is None, "--yuv fits whole frames (not with --patch: a patch may split a chroma block)")
    if options.patch is not None:
        _check(
            options.spec.capabilities.patches,
            f"--patch: {options.model} decodes whole frames only (patch training: hinerv)",
        )
        _check(MIN_PATCH <= options.patch <= MAX_PATCH, f"--patch {options.patch}: must be in {MIN_PATCH}..{MAX_PATCH}")
    if options.time is not None:
        _check(math.isfinite(options.time) and options.time > 0, f"--time {options.time:g}: must be positive")
        _check(options.epochs is None, "give at most one of --time and --epochs")
        _check(
            options.uses_rd or options.spec.progressive,
            "--time plans rate–distortion encodes and pfnr archives (not --no-rd, --prune or --*-bits encodes)",
        )
        _check(options.patch is None, "--time plans whole-frame training (not with --patch)")
    if options.lam is not None:
        _check(math.isfinite(options.lam) and options.lam > 0, f"--lambda {options.lam}: must be positive")
        _check(options.uses_rd, "--lambda needs the rate–distortion fit (not with --no-rd, --prune or --*-bits)")
    if options.rd is True:
        _check(options.prune is None, "--prune: the rate–distortion fit learns its own steps (--rd prunes nothing)")
        _check(
            options.weight_bits is None and options.embed_bits is None,
            "--weight-bits/--embed-bits: the rate–distortion fit learns its steps (not with --rd)",
        )


def _validate_size(options: EncodeOptions) -> None:
    """One of ``--bpp`` and ``--params``, in range; ``--params`` only for a model sized by it."""
    _check(options.bpp is None or options.params is None, "give exactly one of --bpp and --params")
    if options.bpp is not None:
        _check(math.isfinite(options.bpp) and 0 < options.bpp, f"--bpp {options.bpp}: the budget must be positive")
        _check(options.bpp <= MAX_BPP, f"--bpp {options.bpp}: at most {MAX_BPP:g} (uncompressed 8-bit RGB)")
    if options.params is not None:
        _check(1 <= options.params <= MAX_PARAMS, f"--params {options.params}: must be in 1..{MAX_PARAMS}")
        _check(
            options.model == AUTO or options.spec.model_cls.fixed_c0 is None,
            f"--params: {options.model}'s size is its canvas's, not a budget's (give --bpp)",
        )


def _validate_camera(options: EncodeOptions) -> None:
    """``--camera`` names a camera model and ``--motion-bits`` a precision, only for a model that codes motion."""
    _check(0 <= options.motion_bits <= SHIFT_BITS, f"--motion-bits {options.motion_bits}: use 0 to {SHIFT_BITS}")
    for given, name in ((options.camera is not None, "--camera"), (options.motion_bits != SHIFT_BITS, "--motion-bits")):
        _check(
            not given or options.model == AUTO or options.spec.capabilities.motion,
            f"{name}: {options.model} does not code camera motion (motion models: hinerv-mc, canvas, auto)",
        )
    _check(options.camera in (None, *CAMERAS), f"--camera {options.camera}: use {', '.join(CAMERAS)}")


def _validate_progressive(options: EncodeOptions) -> None:
    model = options.model
    _check(options.prune is None, f"--prune: {model}'s sparsity is its learned mask; set --capacity instead")
    _check(options.embed_bits is None, f"--embed-bits: {model} transmits no embeddings")
    if options.capacity is not None:
        _check(
            0.0 < options.capacity <= 1.0,
            f"--capacity {options.capacity}: the fraction each video selects must be in (0, 1]",
        )
    if options.max_videos is not None:
        _check(1 <= options.max_videos <= 0xFFFF, f"--max-videos {options.max_videos}: must be in 1..65535")


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    _check(name in DEVICES, f"--device {name}: use {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise NvcError("--device cuda: no CUDA device is available")
    return torch.device(name)
