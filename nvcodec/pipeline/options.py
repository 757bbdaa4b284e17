"""Every choice a user can make for an encode or an append, each default stated once, validated
once (when the options are made), and the device they name."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from nvcodec.errors import NvcError
from nvcodec.fit import PRESET_EPOCHS, FitConfig
from nvcodec.models import ModelSpec, spec

DEFAULT_BPP = 0.05
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class EncodeOptions:
    """Every encoder choice a user can make (the CLI passes only what the user gave).

    Attributes:
        model: registered model name.
        bpp: file-size budget in bits per pixel (exclusive with ``params``); when neither is
            given the budget is ``DEFAULT_BPP`` (see :attr:`budget_bpp`). For an append: the bits
            per pixel of what the video adds.
        params: transmitted values (weights + embeddings) when sizing directly.
        preset: ``fast``, ``medium`` or ``slow``: number of epochs.
        epochs: explicit epoch count, overriding the preset.
        prune: fraction of weights removed; None lets rate control pick (0 with ``params``).
        weight_bits: quantization depth of weights; None lets rate control pick (8 with ``params``).
        embed_bits: quantization depth of embeddings; None lets rate control pick (6 with ``params``).
        batch_size: frames per optimizer step.
        lr: peak learning rate; None takes the model's reference value.
        seed: seed of initialization and frame order.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        capacity: progressive models: fraction of each tensor a video selects; None: the model
            config's default.
        max_videos: progressive models: most videos the archive may hold; None: the config's default.
        spec: the registry's spec of ``model`` (derived, not an option).
    """

    model: str = "hnerv"
    bpp: float | None = None
    params: int | None = None
    preset: str = "medium"
    epochs: int | None = None
    prune: float | None = None
    weight_bits: int | None = None
    embed_bits: int | None = None
    batch_size: int = 2
    lr: float | None = None
    seed: int = 0
    device: str = "auto"
    capacity: float | None = None
    max_videos: int | None = None
    spec: ModelSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", spec(self.model))
        _validate(self)

    @property
    def budget_bpp(self) -> float | None:
        """The bpp budget in force: ``bpp``, or ``DEFAULT_BPP`` when sizing is not by ``params``."""
        if self.bpp is not None:
            return self.bpp
        return None if self.params is not None else DEFAULT_BPP

    @property
    def planned_epochs(self) -> int:
        """``epochs`` if given, else the preset's epoch count."""
        return self.epochs or PRESET_EPOCHS[self.preset]

    def fit_config(self, epochs: int) -> FitConfig:
        """The training settings for ``epochs`` epochs (the model's reference lr and loss by default)."""
        cls = self.spec.model_cls
        lr = self.lr if self.lr is not None else cls.default_lr
        return FitConfig(epochs=epochs, lr=lr, batch_size=self.batch_size, loss=cls.default_loss, seed=self.seed)


def _validate(options: EncodeOptions) -> None:
    """Reject inconsistent or out-of-range options with a one-line error."""
    if options.spec.progressive:
        _validate_progressive(options)
    elif options.capacity is not None or options.max_videos is not None:
        raise NvcError(f"--capacity and --max-videos apply to progressive models (pfnr), not {options.model}")
    if options.bpp is not None and options.params is not None:
        raise NvcError("give exactly one of --bpp and --params")
    if options.bpp is not None and not options.bpp > 0:
        raise NvcError(f"--bpp {options.bpp}: the budget must be positive")
    if options.params is not None and options.params <= 0:
        raise NvcError(f"--params {options.params}: must be positive")
    if options.preset not in PRESET_EPOCHS:
        raise NvcError(f"--preset {options.preset}: use {', '.join(PRESET_EPOCHS)}")
    if options.epochs is not None and options.epochs <= 0:
        raise NvcError(f"--epochs {options.epochs}: must be positive")
    if options.prune is not None and not 0.0 <= options.prune < 1.0:
        raise NvcError(f"--prune {options.prune}: the fraction removed must be in [0, 1)")
    for flag, bits in (("--weight-bits", options.weight_bits), ("--embed-bits", options.embed_bits)):
        if bits is not None and not 2 <= bits <= 16:
            raise NvcError(f"{flag} {bits}: must be in 2..16")
    if options.batch_size <= 0:
        raise NvcError(f"--batch-size {options.batch_size}: must be positive")
    if options.device not in DEVICES:
        raise NvcError(f"--device {options.device}: use {', '.join(DEVICES)}")


def _validate_progressive(options: EncodeOptions) -> None:
    if options.prune is not None:
        raise NvcError(f"--prune: {options.model}'s sparsity is its learned mask; set --capacity instead")
    if options.embed_bits is not None:
        raise NvcError(f"--embed-bits: {options.model} transmits no embeddings")
    if options.capacity is not None and not 0.0 < options.capacity <= 1.0:
        raise NvcError(f"--capacity {options.capacity}: the fraction each video selects must be in (0, 1]")
    if options.max_videos is not None and not 1 <= options.max_videos <= 0xFFFF:
        raise NvcError(f"--max-videos {options.max_videos}: must be in 1..65535")


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name not in DEVICES:
        raise NvcError(f"--device {name}: use {', '.join(DEVICES)}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise NvcError("--device cuda: no CUDA device is available")
    return torch.device(name)
