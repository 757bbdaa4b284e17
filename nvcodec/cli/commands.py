"""The commands: parse options, call the pipeline (or the bench), hand the result to the printer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from nvcodec import __version__, pipeline
from nvcodec.bench import BenchConfig
from nvcodec.cli.helps import (
    CAMERA_HELP,
    DECODE_PIX_FMT_HELP,
    LOG_HELP,
    MOTION_BITS_HELP,
    PRESETS,
    RAW_FPS_HELP,
    RAW_PIX_FMT_HELP,
    RAW_SIZE_HELP,
    RD_HELP,
    SCALE_HELP,
    SEGMENT_HELP,
    TIME_HELP,
    VIDEO_HELP,
    YUV_HELP,
)
from nvcodec.cli.inputs import encode_input, input_video, make_reporter, parse_size
from nvcodec.cli.output import print_bd_rates, print_info, print_result
from nvcodec.errors import UsageError
from nvcodec.files import check_output
from nvcodec.io import (
    check_output_type,
    is_pattern,
    pattern_files,
    spooled,
)
from nvcodec.models import names, spec
from nvcodec.pipeline import EncodeOptions
from nvcodec.pipeline.timing import parse_duration


def _version(value: bool) -> None:
    if value:
        from nvcodec.container import FORMAT_MAJOR, FORMAT_MINOR

        print(f"nvcodec {__version__} (.nrv format {FORMAT_MAJOR}.{FORMAT_MINOR})")
        raise typer.Exit()


app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="nvcodec: a neural video codec (NeRV family) with a self-describing .nrv format.",
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """nvcodec: a neural video codec (NeRV family) with a self-describing .nrv format."""


class _Command(typer.core.TyperCommand):
    """A command whose usage line names required arguments plainly (``INPUT``, not ``{INPUT}``)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:  # noqa: D102
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


PFNR = spec("pfnr").config_cls
QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing but errors (--json still prints its result).")
OVERWRITE = typer.Option(False, "--overwrite", "-y", help="Replace an existing output.")


def _options(**given: Any) -> EncodeOptions:
    """Encoder options from what the user gave (None: not given, so the option's own default applies)."""
    return EncodeOptions(**{k: v for k, v in given.items() if v is not None})


@app.command(cls=_Command)
def encode(
    input: Path | None = typer.Argument(None, metavar="INPUT", readable=False, help=VIDEO_HELP),
    output: Path | None = typer.Option(None, "-o", "--output", help="Output .nrv (default: INPUT.nrv)."),
    bpp: float | None = typer.Option(None, help=f"Budget in bits per pixel of the real file [{pipeline.DEFAULT_BPP}]."),
    params: int | None = typer.Option(None, help="Model size in transmitted values, instead of --bpp."),
    model: str | None = typer.Option(None, help=f"Model: auto, {', '.join(names())} [{EncodeOptions.model}]."),
    preset: str | None = typer.Option(None, help=f"{PRESETS} [{EncodeOptions.preset}]."),
    epochs: int | None = typer.Option(None, help="Epochs, overriding the preset."),
    time: str | None = typer.Option(None, "--time", help=TIME_HELP),
    prune: float | None = typer.Option(None, help="Fraction of weights pruned [rate control picks]."),
    weight_bits: int | None = typer.Option(None, help="Weight quantization bits [rate control picks]."),
    embed_bits: int | None = typer.Option(None, help="Embedding quantization bits [rate control picks]."),
    frames: int | None = typer.Option(None, help="Number of frames to encode [all]."),
    start: int = typer.Option(0, help="First frame to encode [0].", show_default=False),
    crop: str | None = typer.Option(None, help="Centre crop HEIGHTxWIDTH before encoding."),
    scale: int | None = typer.Option(None, help=SCALE_HELP),
    sample: bool = typer.Option(False, "--sample", help="Encode Big Buck Bunny (reduced scale on CPU)."),
    device: str | None = typer.Option(None, help=f"auto | cpu | cuda [{EncodeOptions.device}]."),
    seed: int | None = typer.Option(None, help=f"Random seed [{EncodeOptions.seed}]."),
    batch_size: int | None = typer.Option(None, help=f"Frames per training step [{EncodeOptions.batch_size}]."),
    lr: float | None = typer.Option(None, help="Peak learning rate [4x the model's reference]."),
    patch: int | None = typer.Option(
        None, help="hinerv: train on square patches of about this many pixels a side [whole frames]."
    ),
    capacity: float | None = typer.Option(
        None, help=f"pfnr: fraction of each tensor a video selects [{PFNR.capacity}]."
    ),
    max_videos: int | None = typer.Option(None, help=f"pfnr: most videos the archive may hold [{PFNR.max_videos}]."),
    rd: bool | None = typer.Option(None, "--rd/--no-rd", help=RD_HELP),
    lam: float | None = typer.Option(None, "--lambda", help="Fixed rate weight: distortion + lambda x bpp."),
    segment: int | None = typer.Option(None, help=SEGMENT_HELP),
    workers: int | None = typer.Option(None, help="Segments fitted at a time, each in its own process [free cores]."),
    threads: int | None = typer.Option(None, help="CPU threads of the fit [the cores other processes leave free]."),
    camera: str | None = typer.Option(None, help=CAMERA_HELP),
    motion_bits: int | None = typer.Option(None, help=MOTION_BITS_HELP),
    yuv: bool | None = typer.Option(None, "--yuv/--rgb", help=YUV_HELP),
    size: str | None = typer.Option(None, "--size", help=RAW_SIZE_HELP),
    fps: str | None = typer.Option(None, "--fps", help=RAW_FPS_HELP),
    pix_fmt: str | None = typer.Option(None, "--pix-fmt", help=RAW_PIX_FMT_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted segmented encode from OUTPUT.parts."),
    log: Path | None = typer.Option(None, "--log", help=LOG_HELP),
    overwrite: bool = OVERWRITE,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    quiet: bool = QUIET,
) -> None:
    """Fit a network to a video and write it as one .nrv file (with --model pfnr: a growing archive);
    a long video is coded as segments, each with its own network (under torchrun: spread over the ranks)."""
    out = output or (Path(input.name).with_suffix(".nrv") if input else Path("sample.nrv"))
    options = _options(
        model=model, bpp=bpp, params=params, preset=preset, epochs=epochs, prune=prune, weight_bits=weight_bits,
        embed_bits=embed_bits, batch_size=batch_size, lr=lr, seed=seed, device=device, capacity=capacity,
        max_videos=max_videos, rd=rd, lam=lam, patch=patch, time=parse_duration(time) if time else None,
        threads=threads, camera=camera, motion_bits=motion_bits, yuv=yuv,
    )  # fmt: skip
    _check_outputs(input, out, log, overwrite)
    window, raw, segmented = (start, frames, crop, scale), (size, fps, pix_fmt), (segment, workers, resume)
    report = encode_input(input, sample, out, options, quiet or as_json, window, raw, segmented, log)
    if report is not None and (as_json or not quiet):  # under torchrun, rank 0 reports
        print_result({**report.to_json(), "output": str(out)}, as_json, f"encoded {out}")


def _check_outputs(input: Path | None, out: Path, log: Path | None, overwrite: bool) -> None:
    """Refuse an output (and a ``--log``) that would overwrite an input or, unless asked, a file."""
    check_output(out, [input] if input else [], overwrite)
    if log is not None:
        check_output(log, [input, out] if input else [out], overwrite)


@app.command(cls=_Command)
def append(
    archive: Path = typer.Argument(
        ..., metavar="ARCHIVE", readable=False, help="A .nrv archive made with encode --model pfnr."
    ),
    input: Path | None = typer.Argument(
        None, metavar="INPUT", readable=False, help="Video to add (same frame size as the archive)."
    ),
    bpp: float | None = typer.Option(
        None, help=f"Budget of this video in bits per pixel of what it adds to the file [{pipeline.DEFAULT_BPP}]."
    ),
    preset: str | None = typer.Option(None, help=f"{PRESETS} [{EncodeOptions.preset}]."),
    epochs: int | None = typer.Option(None, help="Epochs, overriding the preset."),
    time: str | None = typer.Option(None, "--time", help=TIME_HELP),
    weight_bits: int | None = typer.Option(None, help="Bits of the new weights [rate control picks]."),
    frames: int | None = typer.Option(None, help="Number of frames to encode [all]."),
    start: int = typer.Option(0, help="First frame to encode [0].", show_default=False),
    crop: str | None = typer.Option(None, help="Centre crop HEIGHTxWIDTH before encoding."),
    scale: int | None = typer.Option(None, help=SCALE_HELP),
    sample: bool = typer.Option(False, "--sample", help="Add Big Buck Bunny (reduced scale on CPU)."),
    device: str | None = typer.Option(None, help=f"auto | cpu | cuda [{EncodeOptions.device}]."),
    seed: int | None = typer.Option(None, help=f"Seed of the frame order [{EncodeOptions.seed}]."),
    batch_size: int | None = typer.Option(None, help=f"Frames per training step [{EncodeOptions.batch_size}]."),
    lr: float | None = typer.Option(None, help="Peak learning rate [4x the model's reference]."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    quiet: bool = QUIET,
) -> None:
    """Fit one more video into a progressive archive; earlier videos keep decoding exactly as before."""
    check_output(archive, [input] if input else [], overwrite=True)
    options = _options(
        model="pfnr", bpp=bpp, preset=preset, epochs=epochs, weight_bits=weight_bits, batch_size=batch_size, lr=lr,
        seed=seed, device=device, time=parse_duration(time) if time else None,
    )  # fmt: skip
    reporter = make_reporter(quiet or as_json)
    try:
        with spooled(input) as readable:  # "-" (standard input) too
            video = input_video(readable, sample, start, frames, crop, scale, options, reporter)
        report = pipeline.append_video(archive, video, options, reporter)
    finally:
        reporter.close()
    if as_json or not quiet:
        print_result(
            {**report.to_json(), "output": str(archive)}, as_json, f"appended video {report.video} to {archive}"
        )


def _parse_range(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        a, b = text.split(":")
        return int(a), int(b)
    except ValueError:
        raise UsageError(f"--frames {text}: expected a:b, e.g. 0:10") from None


@app.command(cls=_Command)
def decode(
    input: Path = typer.Argument(..., metavar="INPUT", readable=False, help="The .nrv file (- for standard input)."),
    output: Path = typer.Option(
        ...,
        "-o",
        "--output",
        help=".mp4/.mov (H.264), .mkv (FFV1, exact), .y4m, .yuv, or frame_%04d.png (file k: frame k).",
    ),
    frames: str | None = typer.Option(None, help="Only frames a:b (end exclusive)."),
    video: int = typer.Option(0, help="Which video of an archive [0].", show_default=False),
    device: str = typer.Option("auto", help="auto | cpu | cuda [auto].", show_default=False),
    lossless: bool = typer.Option(False, "--lossless", help="Lossless RGB H.264 for .mp4/.mov."),
    pix_fmt: str | None = typer.Option(None, help=DECODE_PIX_FMT_HELP),
    overwrite: bool = OVERWRITE,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    quiet: bool = QUIET,
) -> None:
    """Rebuild the network from a .nrv file and write the frames as a video."""
    check_output_type(output, lossless, pix_fmt)
    check_output(output, [input], overwrite, existing=is_pattern(output) and bool(pattern_files(output)))
    reporter = make_reporter(quiet or as_json)
    try:
        with spooled(input) as readable:  # a piped file is read once, into a temporary copy
            report = pipeline.decode_file(
                readable, output, _parse_range(frames), device, lossless, video, reporter, pix_fmt=pix_fmt
            )
    finally:
        reporter.close()
    if as_json or not quiet:
        print_result(report.to_json(), as_json, f"decoded {input}")


@app.command(cls=_Command)
def info(
    input: Path = typer.Argument(..., metavar="INPUT", readable=False, help="The .nrv file (- for standard input)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Describe a .nrv file: format version, videos, model, sections."""
    with spooled(input) as readable:
        print_info(pipeline.file_info(readable), as_json, str(input))


def _floats(text: str, flag: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise UsageError(f"{flag} {text}: expected comma-separated numbers") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


@app.command(cls=_Command)
def bench(
    clips: list[Path] | None = typer.Argument(None, metavar="CLIPS", help="Clips to code (default: Big Buck Bunny)."),
    models: str | None = typer.Option(None, help=f"Our models, comma-separated [{','.join(BenchConfig.models)}]."),
    bpp: str | None = typer.Option(None, help=f"Budgets, comma-separated [{','.join(map(str, BenchConfig.bpps))}]."),
    anchors: str | None = typer.Option(None, help=f"Anchors: x264, x265 [{','.join(BenchConfig.anchors)}]."),
    anchor_preset: str | None = typer.Option(None, help=f"Anchor preset [{BenchConfig.anchor_preset}]."),
    anchor_pix_fmt: str | None = typer.Option(
        None, help=f"Anchor pixel formats: yuv420p, yuv420p10le, yuv444p [{','.join(BenchConfig.anchor_pix_fmts)}]."
    ),
    preset: str | None = typer.Option(None, help=f"Our preset (epochs) [{BenchConfig.preset}]."),
    epochs: int | None = typer.Option(None, help="Our epochs, overriding the preset."),
    time: str | None = typer.Option(None, "--time", help="Seconds each of our encodes may take: " + TIME_HELP),
    frames: int | None = typer.Option(None, help="Frames per clip [all]."),
    crop: str | None = typer.Option(None, help="Centre crop HEIGHTxWIDTH [Bunny: 640x1280]."),
    scale: int | None = typer.Option(None, help=SCALE_HELP),
    out: Path | None = typer.Option(None, "--out", help=f"Output directory [{BenchConfig.out}]."),
    resume: bool = typer.Option(False, "--resume", help="Skip points already in OUT/results.json."),
    device: str | None = typer.Option(None, help=f"auto | cpu | cuda for our models [{BenchConfig.device}]."),
    seed: int | None = typer.Option(None, help=f"Random seed for our models [{BenchConfig.seed}]."),
    references: str | None = typer.Option(
        None, help="Our models every other model also gets a BD-rate against, comma-separated [none]."
    ),
    rate_axis: str | None = typer.Option(None, help=f"The plots' rate axis: bpp | kbps [{BenchConfig.rate_axis}]."),
    as_json: bool = typer.Option(False, "--json", help="Print the BD-rate list as JSON."),
    quiet: bool = QUIET,
) -> None:
    """Rate-distortion curves of our models against x264/x265, with BD-rates, plots, JSON and CSV."""
    given = {
        "clips": tuple(str(c) for c in clips) if clips else None,
        "models": _names(models) if models is not None else None,
        "bpps": _floats(bpp, "--bpp") if bpp is not None else None,
        "anchors": _names(anchors) if anchors is not None else None,
        "anchor_preset": anchor_preset,
        "anchor_pix_fmts": _names(anchor_pix_fmt) if anchor_pix_fmt is not None else None,
        "preset": preset,
        "epochs": epochs,
        "time": parse_duration(time) if time else None,
        "frames": frames,
        "crop": parse_size(crop) if crop else None,
        "scale": scale,
        "out": out,
        "device": device,
        "seed": seed,
        "references": _names(references) if references is not None else None,
        "rate_axis": rate_axis,
    }
    cfg = BenchConfig(resume=resume, **{k: v for k, v in given.items() if v is not None})
    from nvcodec.bench.runner import run_bench  # needs the bench extra (bjontegaard, matplotlib)

    reporter = make_reporter(quiet or as_json)
    try:
        result = run_bench(cfg, reporter)
    finally:
        reporter.close()
    if as_json:
        print(json.dumps({"out": str(cfg.out), "bd_rate": result["bd_rate"]}))
    elif not quiet:
        print_bd_rates(result)


@app.command(cls=_Command)
def version() -> None:
    """Print the nvcodec version and the .nrv format version it writes (also: --version)."""
    _version(True)
