"""CPU speed of the fit and the decoder, each speed switch off and on in one run.

Measures, for each model at 160x320 (Big Buck Bunny reduced x4, or the synthetic clip without it),
sized for 0.05 bpp:

* the machine's ceiling: GFLOP/s of a 2048 x 2048 float32 matrix product (best of 3);
* training frames per second of the rate–distortion encode (its steps mixed as a ``--epochs``
  encode splits them: warm-up steps through the frame encoder, warm-up steps with the embedding
  table, rate–distortion steps), timed over a few steps on copies of one initialised model, with
  the switches as the code was before (per-tensor Adam, the rate term priced every step and
  tensor by tensor, the encoder trained throughout), each switch alone, and all of them, the variants interleaved for
  ``--rounds`` rounds and each step time the least of its rounds (the machine's speed drifts by
  tens of percent over minutes); the ratio all / before; the fit's achieved GFLOP/s (FLOPs of one
  distortion step through the encoder and one with the table, counted by torch's FlopCounterMode
  with the grouped-convolution backward corrected, divided by their times);
* decode frames per second at 160x320 and 640x1280 (the decoder's render, batches of 4);
* with ``--time S``: PSNR and bpp of a whole ``--time S`` encode with the switches before and after.

The switches (:class:`Switches`) are fields of the encode options' training settings
(:class:`~nvcodec.pipeline.training.Training`): ``fused_adam`` (Adam's fused kernel),
``rate_every`` (the rate term every few steps, noisy weights read without their symbols between),
``joint_rate`` (the weights' rate in one pass) and ``encoder_share`` (the embeddings trained as a
table after that share of the warm-up); this script passes them in the options.

Usage: python benchmarks/speed_cpu.py [--models hnerv,hinerv] [--steps 12] [--rounds 3] [--time 120]
Writes benchmarks/results/speed-cpu.json.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import platform
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from torch.ops import aten
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from nvcodec import __version__, pipeline
from nvcodec.fit import FrameSource, export_embeddings, fit
from nvcodec.fit.rd import RateModel, RDConfig, fit_rd
from nvcodec.fit.train import EmbeddingTable
from nvcodec.format import VideoMeta
from nvcodec.io import Video, prepare_video
from nvcodec.models import Recipe
from nvcodec.pipeline.options import Training
from nvcodec.pipeline.sizing import size_rd
from nvcodec.progress import Reporter
from nvcodec.render import render

RESULTS = Path(__file__).parent / "results"
BUDGET = 0.05
DEFAULT = Training(warmup_share=Recipe().warm_share)
"""The encoder's training settings as they are (hnerv's warm-up share: the recipe's default)."""


@dataclasses.dataclass(frozen=True)
class Switches:
    """One variant of the speed switches (the defaults: the code as it is)."""

    fused: bool = DEFAULT.fused_adam
    """Adam's fused kernel (:attr:`~nvcodec.pipeline.training.Training.fused_adam`)."""
    every: int = DEFAULT.rate_every
    """The rate term priced every this many steps, the steps between reading noisy weights
    without forming their symbols (:attr:`~nvcodec.pipeline.training.Training.rate_every`)."""
    share: float | None = DEFAULT.encoder_share
    """The warm-up's share through the frame encoder, then the embedding table
    (:attr:`~nvcodec.pipeline.training.Training.encoder_share`; None: the encoder throughout)."""
    joint: bool = DEFAULT.joint_rate
    """The weights' rate priced in one pass (:attr:`~nvcodec.pipeline.training.Training.joint_rate`)."""

    def training(self) -> Training:
        """The encode options' training settings of this variant."""
        return dataclasses.replace(
            DEFAULT, fused_adam=self.fused, rate_every=self.every, encoder_share=self.share, joint_rate=self.joint
        )


BEFORE = Switches(fused=False, every=1, share=None, joint=False)
SWITCHES = {
    "before": BEFORE,
    "fused adam": dataclasses.replace(BEFORE, fused=True),
    f"rate every {DEFAULT.rate_every}": dataclasses.replace(BEFORE, every=DEFAULT.rate_every),
    "joint rate": dataclasses.replace(BEFORE, joint=True),
    "embedding table": dataclasses.replace(BEFORE, share=DEFAULT.encoder_share),
    "all": Switches(),
}
"""The variants: the code as it was before the speed work, each switch alone, and all of them."""
EPOCHS = 100
"""The encode whose stage split weighs the step kinds (the ``medium`` preset's epochs)."""


def ceiling_gflops(n: int = 2048) -> float:
    """Best of three timings of an n x n float32 matrix product, in GFLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(3))
    return 2 * n**3 / best / 1e9


def _seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _build(model: str, video: Video) -> tuple[torch.nn.Module, FrameSource, RDConfig, pipeline.EncodeOptions]:
    options = pipeline.EncodeOptions(model=model, bpp=BUDGET, device="cpu")
    meta = VideoMeta(video.num_frames, video.width, video.height, video.fps)
    config = size_rd(video, options, meta)[0]
    torch.manual_seed(0)
    net = options.spec.build(config, with_encoder=True)
    source = FrameSource(torch.from_numpy(np.ascontiguousarray(video.frames)), (config.height, config.width))
    pixels = video.num_frames * video.height * video.width
    return net, source, RDConfig(pixels, BUDGET, DEFAULT.lambda_start), options


def _mix(model: torch.nn.Module, share: float | None) -> dict[str, float]:
    """Shares of an :data:`EPOCHS` encode's steps of each kind (``fit``: through the encoder,
    ``table``: with the embedding table, ``rd``: rate–distortion), as the pipeline splits them."""
    training = dataclasses.replace(DEFAULT, encoder_share=share)
    warm = training.stage_epochs(EPOCHS)[0]
    through = training.encoder_epochs(warm, model)
    return {"fit": through / EPOCHS, "table": (warm - through) / EPOCHS, "rd": 1.0 - warm / EPOCHS}


def step_seconds(model: str, video: Video, switches: Switches, steps: int) -> dict:
    """Seconds per step of each kind of one variant (``fit``, ``table``, ``rd``: see :func:`_mix`)."""
    net, source, rd, options = _build(model, video)
    few = lambda k: dataclasses.replace(options.fit_config(1), fused=switches.fused, max_steps=k)  # noqa: E731
    twin, quiet = copy.deepcopy(net), Reporter()
    table = EmbeddingTable(export_embeddings(twin, source)) if _mix(net, switches.share)["table"] else None
    seconds = {}
    for kind, run in (
        ("fit", lambda k: fit(twin, source, few(k), quiet)),
        ("table", lambda k: fit(twin, source, few(k), quiet, table=table)),
    ):
        run(2)
        seconds[kind] = _seconds(lambda: run(steps)) / steps  # noqa: B023
    rate = RateModel(twin, export_embeddings(twin, source, table))
    rate.attach(twin)
    rd = dataclasses.replace(rd, rate_every=switches.every, joint_rate=switches.joint)
    fit_rd(twin, rate, source, few(2), rd, quiet, table=table)
    seconds["rd"] = _seconds(lambda: fit_rd(twin, rate, source, few(steps), rd, quiet, table=table)) / steps
    return seconds


def _least(rows, mix: dict[str, float]) -> dict:
    """Per step kind, the least seconds over rounds; the training frames per second they give
    mixed as ``mix`` says."""
    rows = list(rows)
    least = {f"{k}_step_s": min(r[k] for r in rows) for k in mix}
    mean = sum(share * least[f"{k}_step_s"] for k, share in mix.items())
    return {**least, "mix": mix, "train_fps": 1.0 / mean, "rounds": len(rows)}


def _conv_backward_flop(
    grad_out_shape,
    x_shape,
    w_shape,
    _bias,
    _stride,
    _padding,
    _dilation,
    transposed,
    _output_padding,
    groups,
    output_mask,
    out_shape,
    **_,
) -> int:
    """FLOPs of a convolution's backward pass: torch's formula (2.13) counts the weight gradient
    of a grouped convolution as if it were dense, ``groups`` times too many (64x for the ConvNeXt
    encoder's depthwise 7x7); this one divides that part by ``groups``."""

    def t(shape: list[int]) -> list[int]:
        return [shape[1], shape[0], *shape[2:]]

    flops = 0
    if output_mask[0]:
        flops += conv_flop_count(grad_out_shape, w_shape, out_shape[0], not transposed)
    if output_mask[1]:
        a, b = (t(grad_out_shape), t(x_shape)) if transposed else (t(x_shape), t(grad_out_shape))
        flops += conv_flop_count(a, b, t(out_shape[1]), transposed=False) // groups
    return flops


def fit_gflops(model: str, video: Video, least: dict) -> dict:
    """FLOPs of one distortion step (forward and backward) through the encoder and with the
    embedding table, and the GFLOP/s each achieves at the least step times ``least`` (the "all"
    variant's)."""
    net, source, _, options = _build(model, video)
    table = EmbeddingTable(export_embeddings(net, source)) if net.embedding_shapes() else None
    out = {}
    for kind, kwargs in (("fit", {}), ("table", {"table": table})):
        counter = FlopCounterMode(display=False, custom_mapping={aten.convolution_backward: _conv_backward_flop})
        with counter:
            fit(net, source, dataclasses.replace(options.fit_config(1), max_steps=1), Reporter(), **kwargs)
        flops = counter.get_total_flops()
        out[kind] = {"step_gflop": flops / 1e9, "achieved_gflops": flops / least[f"{kind}_step_s"] / 1e9}
    return out


def decode_fps(model: str, height: int, width: int, frames: int = 16) -> float:
    """Frames per second of the decoder's render of a freshly built model sized for a clip of
    ``frames`` frames of ``height`` x ``width`` at 0.05 bpp."""
    clip = Video(np.zeros((frames, height, width, 3), np.uint8), Fraction(25, 1), "zeros")
    net, source, _, _ = _build(model, clip)
    net.eval()
    embeddings = export_embeddings(net, source)
    work = lambda: list(render(net, embeddings, list(range(frames)), (height, width), torch.device("cpu")))  # noqa: E731
    work()
    return frames / _seconds(work)


def timed_encode(model: str, video: Video, seconds: float, switches: Switches) -> dict:
    """A ``--time`` encode with the switches set as given (in the options' training settings)."""
    with tempfile.TemporaryDirectory() as tmp:
        options = pipeline.EncodeOptions(
            model=model, bpp=BUDGET, time=seconds, device="cpu", training=switches.training()
        )
        report = pipeline.encode_video(video, Path(tmp) / "t.nrv", options)
    return {k: getattr(report, k) for k in ("epochs", "bpp", "psnr", "ms_ssim", "encode_seconds", "planned_seconds")}


def main() -> None:
    """Measure every model and write the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", default="hnerv,hinerv")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--time", type=float, default=0.0, help="seconds of the timed encodes (0: none)")
    ap.add_argument("--out", default=str(RESULTS / "speed-cpu.json"))
    args = ap.parse_args()
    video = prepare_video(None, scale=4)
    result = {
        "nvcodec": __version__,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads",
        "clip": f"{video.source} {video.num_frames}x{video.height}x{video.width}",
        "budget_bpp": BUDGET,
        "ceiling_gflops": ceiling_gflops(),
        "models": {},
    }
    for model in args.models.split(","):
        rounds = [
            {n: step_seconds(model, video, s, args.steps) for n, s in SWITCHES.items()} for _ in range(args.rounds)
        ]
        net = _build(model, video)[0]
        row = {n: _least((r[n] for r in rounds), _mix(net, s.share)) for n, s in SWITCHES.items()}
        row["ratio_all_over_before"] = row["all"]["train_fps"] / row["before"]["train_fps"]
        row["flops"] = fit_gflops(model, video, row["all"])
        row["decode_fps"] = {f"{h}x{w}": decode_fps(model, h, w) for h, w in ((160, 320), (640, 1280))}
        if args.time:
            row["timed"] = {n: timed_encode(model, video, args.time, SWITCHES[n]) for n in ("before", "all")}
        result["models"][model] = row
        print(json.dumps({model: row}, indent=1), flush=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
