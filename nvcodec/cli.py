"""The command line: parse options, call the pipeline, print a table (or JSON). Nothing else."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from nvcodec import __version__, pipeline
from nvcodec.bench import BenchConfig
from nvcodec.errors import NvcError
from nvcodec.io import Video, check_output, check_writable, prepare_video
from nvcodec.models import names
from nvcodec.pipeline import EncodeOptions
from nvcodec.progress import Reporter, RichReporter

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="nvcodec: a neural video codec (NeRV family) with a self-describing .nrv format.",
)
PRESETS = "fast | medium | slow (30 / 100 / 300 epochs)"


def _reporter(quiet: bool) -> Reporter:
    return Reporter() if quiet else RichReporter()


def _print(result: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(result, indent=None, sort_keys=False))
        return
    table = Table(title=title, show_header=True)
    table.add_column("field")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
        if isinstance(value, (list, dict)):
            continue
        table.add_row(key, "null" if value is None else str(value))
    Console().print(table)
    for note in result.get("notes", []):
        Console().print(f"note: {note}")


def _parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise NvcError(f"--crop {text}: expected HEIGHTxWIDTH, e.g. 640x1280") from None
    return h, w


def _options(**given: Any) -> EncodeOptions:
    """Encoder options from what the user gave (None: not given, so the option's own default applies)."""
    return EncodeOptions(**{k: v for k, v in given.items() if v is not None})


def _input(
    input: Path | None,
    sample: bool,
    start: int,
    frames: int | None,
    crop: str | None,
    scale: int | None,
    options: EncodeOptions,
    reporter: Reporter,
) -> Video:
    """The video to encode, through the one input door."""
    if sample == (input is not None):
        raise NvcError("give an input video or --sample (not both)")
    on_gpu = pipeline.resolve_device(options.device).type == "cuda"
    video = prepare_video(input, start, frames, _parse_size(crop) if crop else None, scale, on_gpu)
    if sample:
        reporter.note(
            f"sample: {video.source}, {video.num_frames} frames, {video.prepared} to {video.height}x{video.width}"
        )
    return video


@app.command()
def encode(
    input: Path | None = typer.Argument(None, help="Video to encode (anything FFmpeg reads)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Output .nrv (default: INPUT.nrv)."),
    bpp: float | None = typer.Option(None, help=f"Budget in bits per pixel of the real file [{pipeline.DEFAULT_BPP}]."),
    params: int | None = typer.Option(None, help="Model size in transmitted values, instead of --bpp."),
    model: str | None = typer.Option(None, help=f"Model: {', '.join(names())} [{EncodeOptions.model}]."),
    preset: str | None = typer.Option(None, help=f"{PRESETS} [{EncodeOptions.preset}]."),
    epochs: int | None = typer.Option(None, help="Epochs, overriding the preset."),
    prune: float | None = typer.Option(None, help="Fraction of weights pruned [rate control picks]."),
    weight_bits: int | None = typer.Option(None, help="Weight quantization bits [rate control picks]."),
    embed_bits: int | None = typer.Option(None, help="Embedding quantization bits [rate control picks]."),
    frames: int | None = typer.Option(None, help="Number of frames to encode [all]."),
    start: int = typer.Option(0, help="First frame to encode."),
    crop: str | None = typer.Option(None, help="Centre crop HEIGHTxWIDTH before encoding."),
    scale: int | None = typer.Option(None, help="Box-downscale by this integer factor [1; the sample on CPU: 4]."),
    sample: bool = typer.Option(False, "--sample", help="Encode Big Buck Bunny (reduced scale on CPU)."),
    device: str | None = typer.Option(None, help=f"auto | cpu | cuda [{EncodeOptions.device}]."),
    seed: int | None = typer.Option(None, help=f"Random seed [{EncodeOptions.seed}]."),
    batch_size: int | None = typer.Option(None, help=f"Frames per training step [{EncodeOptions.batch_size}]."),
    lr: float | None = typer.Option(None, help="Peak learning rate [model's reference]."),
    capacity: float | None = typer.Option(None, help="pfnr: fraction of each tensor a video selects [0.5]."),
    max_videos: int | None = typer.Option(None, help="pfnr: most videos the archive may hold [64]."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Fit a network to a video and write it as one .nrv file (with --model pfnr: a growing archive)."""
    out = output or (Path(input.name).with_suffix(".nrv") if input else Path("sample.nrv"))
    check_writable(out)
    options = _options(
        model=model, bpp=bpp, params=params, preset=preset, epochs=epochs, prune=prune, weight_bits=weight_bits,
        embed_bits=embed_bits, batch_size=batch_size, lr=lr, seed=seed, device=device, capacity=capacity,
        max_videos=max_videos,
    )  # fmt: skip
    reporter = _reporter(quiet or as_json)
    try:
        video = _input(input, sample, start, frames, crop, scale, options, reporter)
        report = pipeline.encode_video(video, out, options, reporter)
    finally:
        reporter.close()
    _print({**report.to_json(), "output": str(out)}, as_json, f"encoded {out}")


@app.command()
def append(
    archive: Path = typer.Argument(..., help="A .nrv archive made with encode --model pfnr."),
    input: Path | None = typer.Argument(None, help="Video to add (same frame size as the archive)."),
    bpp: float | None = typer.Option(
        None, help=f"Budget of this video in bits per pixel of what it adds to the file [{pipeline.DEFAULT_BPP}]."
    ),
    preset: str | None = typer.Option(None, help=f"{PRESETS} [{EncodeOptions.preset}]."),
    epochs: int | None = typer.Option(None, help="Epochs, overriding the preset."),
    weight_bits: int | None = typer.Option(None, help="Bits of the new weights [rate control picks]."),
    frames: int | None = typer.Option(None, help="Number of frames to encode [all]."),
    start: int = typer.Option(0, help="First frame to encode."),
    crop: str | None = typer.Option(None, help="Centre crop HEIGHTxWIDTH before encoding."),
    scale: int | None = typer.Option(None, help="Box-downscale by this integer factor [1; the sample on CPU: 4]."),
    sample: bool = typer.Option(False, "--sample", help="Add Big Buck Bunny (reduced scale on CPU)."),
    device: str | None = typer.Option(None, help=f"auto | cpu | cuda [{EncodeOptions.device}]."),
    seed: int | None = typer.Option(None, help=f"Seed of the frame order [{EncodeOptions.seed}]."),
    batch_size: int | None = typer.Option(None, help=f"Frames per training step [{EncodeOptions.batch_size}]."),
    lr: float | None = typer.Option(None, help="Peak learning rate [model's reference]."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Fit one more video into a progressive archive; earlier videos keep decoding exactly as before."""
    check_writable(archive)
    options = _options(
        model="pfnr", bpp=bpp, preset=preset, epochs=epochs, weight_bits=weight_bits, batch_size=batch_size, lr=lr,
        seed=seed, device=device,
    )  # fmt: skip
    reporter = _reporter(quiet or as_json)
    try:
        video = _input(input, sample, start, frames, crop, scale, options, reporter)
        report = pipeline.append_video(archive, video, options, reporter)
    finally:
        reporter.close()
    _print({**report.to_json(), "output": str(archive)}, as_json, f"appended video {report.video} to {archive}")


def _parse_range(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        a, b = text.split(":")
        return int(a), int(b)
    except ValueError:
        raise NvcError(f"--frames {text}: expected a:b, e.g. 0:10") from None


@app.command()
def decode(
    input: Path = typer.Argument(..., help="The .nrv file."),
    output: Path = typer.Option(
        ..., "-o", "--output", help=".mp4/.mov (H.264), .mkv (FFV1, exact), .y4m, or frame_%04d.png."
    ),
    frames: str | None = typer.Option(None, help="Only frames a:b (end exclusive)."),
    video: int = typer.Option(0, help="Which video of an archive."),
    device: str = typer.Option("auto", help="auto | cpu | cuda."),
    lossless: bool = typer.Option(False, "--lossless", help="Lossless RGB H.264 for .mp4/.mov."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Rebuild the network from a .nrv file and write the frames as a video."""
    check_output(output)
    reporter = _reporter(quiet or as_json)
    try:
        report = pipeline.decode_file(input, output, _parse_range(frames), device, lossless, video, reporter)
    finally:
        reporter.close()
    _print(report.to_json(), as_json, f"decoded {input}")


@app.command()
def info(
    input: Path = typer.Argument(..., help="The .nrv file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Describe a .nrv file: format version, videos, model, sections."""
    result = pipeline.file_info(input)
    if as_json:
        print(json.dumps(result))
        return
    _print({k: v for k, v in result.items() if k not in ("videos", "sections")}, False, str(input))
    videos = Table(title="videos")
    for col in ("video", "model", "frames", "size", "fps", "params", "weight bits", "embed bits", "bytes", "bpp"):
        videos.add_column(col)
    for v in result["videos"]:
        videos.add_row(
            str(v["video"]),
            v["model"],
            str(v["frames"]),
            f"{v['width']}x{v['height']}",
            v["fps_fraction"],
            str(v["params"]),
            str(v["weight_bits"]),
            str(v["embed_bits"]),
            str(v["bytes"]),
            f"{v['bpp']:.4f}",
        )
    Console().print(videos)
    for v in result["videos"]:
        if "note" in v:
            Console().print(f"note: {v['note']}")
    table = Table(title="sections")
    for col in ("tag", "video", "bytes"):
        table.add_column(col)
    for s in result["sections"]:
        table.add_row(s["tag"], str(s["video"]), str(s["bytes"]))
    Console().print(table)


def _floats(text: str, flag: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise NvcError(f"{flag} {text}: expected comma-separated numbers") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


@app.command()
def bench(
    clips: list[Path] | None = typer.Argument(None, help="Clips to code (default: Big Buck Bunny)."),
    models: str | None = typer.Option(None, help=f"Our models, comma-separated [{','.join(BenchConfig.models)}]."),
    bpp: str | None = typer.Option(None, help=f"Budgets, comma-separated [{','.join(map(str, BenchConfig.bpps))}]."),
    anchors: str | None = typer.Option(None, help=f"Anchors: x264, x265 [{','.join(BenchConfig.anchors)}]."),
    anchor_preset: str | None = typer.Option(None, help=f"Anchor preset [{BenchConfig.anchor_preset}]."),
    anchor_pix_fmt: str | None = typer.Option(
        None, help=f"Anchor pixel formats: yuv420p, yuv444p [{','.join(BenchConfig.anchor_pix_fmts)}]."
    ),
    preset: str | None = typer.Option(None, help=f"Our preset (epochs) [{BenchConfig.preset}]."),
    epochs: int | None = typer.Option(None, help="Our epochs, overriding the preset."),
    frames: int | None = typer.Option(None, help="Frames per clip [all]."),
    crop: str | None = typer.Option(None, help="Centre crop HEIGHTxWIDTH [Bunny: 640x1280]."),
    scale: int | None = typer.Option(None, help="Box-downscale factor [1; Bunny on CPU: 4]."),
    out: Path | None = typer.Option(None, "--out", help=f"Output directory [{BenchConfig.out}]."),
    resume: bool = typer.Option(False, "--resume", help="Skip points already in OUT/results.json."),
    device: str | None = typer.Option(None, help=f"auto | cpu | cuda for our models [{BenchConfig.device}]."),
    seed: int | None = typer.Option(None, help=f"Random seed for our models [{BenchConfig.seed}]."),
    as_json: bool = typer.Option(False, "--json", help="Print the BD-rate list as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
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
        "frames": frames,
        "crop": _parse_size(crop) if crop else None,
        "scale": scale,
        "out": out,
        "device": device,
        "seed": seed,
    }
    cfg = BenchConfig(resume=resume, **{k: v for k, v in given.items() if v is not None})
    from nvcodec.bench.runner import run_bench  # needs the bench extra (bjontegaard, matplotlib)

    reporter = _reporter(quiet or as_json)
    try:
        result = run_bench(cfg, reporter)
    finally:
        reporter.close()
    if as_json:
        print(json.dumps({"out": str(cfg.out), "bd_rate": result["bd_rate"]}))
        return
    _print_bd(result)


def _fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def _print_bd(result: dict[str, Any]) -> None:
    table = Table(title=f"BD-rate against the anchors ({result['config']['out']})")
    for col in ("clip", "model", "anchor", "metric", "BD-rate %", "BD-PSNR dB", "note"):
        table.add_column(col)
    for r in result["bd_rate"]:
        table.add_row(
            r["clip"],
            r["model"],
            r["anchor"],
            r["metric"],
            _fmt(r["bd_rate_percent"], "+.1f"),
            _fmt(r["bd_psnr_db"], "+.2f"),
            r["note"] or "",
        )
    Console().print(table)


@app.command()
def version() -> None:
    """Print the nvcodec version and the .nrv format version it writes."""
    from nvcodec.container import FORMAT_MAJOR, FORMAT_MINOR

    print(f"nvcodec {__version__} (.nrv format {FORMAT_MAJOR}.{FORMAT_MINOR})")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (errors are one line on stderr, no traceback)."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="nvcodec", standalone_mode=False)
    except NvcError as exc:
        print(f"nvcodec: error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, typer.Abort):
        print("nvcodec: interrupted; no output written", file=sys.stderr)
        return 130
    except Exception as exc:  # usage errors from the option parser carry format_message/exit_code
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            print(f"nvcodec: error: {exc.format_message()}", file=sys.stderr)
            return int(exc.exit_code)
        raise
    code = rv if isinstance(rv, int) else 0
    if code == 130:  # typer turns Ctrl-C inside a command into exit status 130
        print("nvcodec: interrupted; no output written", file=sys.stderr)
    return code
