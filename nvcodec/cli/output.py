"""What the commands print: a result as a table (or one JSON line), ``info``'s tables, BD-rates."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from nvcodec.errors import NvcError

F = TypeVar("F", bound=Callable[..., None])


def to_stdout(printer: F) -> F:
    """``printer``, with a failure to write standard output (a full disk, a closed pipe) turned
    into a one-line :class:`NvcError`; what is left unwritten goes to the null device, so that
    Python's own flush at exit does not fail again."""

    @functools.wraps(printer)
    def wrapped(*args: Any, **kwargs: Any) -> None:
        try:
            printer(*args, **kwargs)
            sys.stdout.flush()
        except OSError as exc:
            discard_stdout()
            raise NvcError(f"<stdout>: cannot write: {exc.strerror or exc}") from None

    return wrapped  # type: ignore[return-value]


def discard_stdout() -> None:
    """Point standard output at the null device (its buffer is dropped there)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass  # a replaced sys.stdout (tests) has no descriptor: nothing to do


PIPED_WIDTH = 10_000
"""Columns a table may use when stdout is not a terminal: rows are never cut (``weig…``) in a pipe or file."""


def _console() -> Console:
    """A console on stdout: the terminal's width, or :data:`PIPED_WIDTH` when stdout is not one."""
    return Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)


@to_stdout
def print_result(result: dict[str, Any], as_json: bool, title: str) -> None:
    """``result`` as one JSON line (``as_json``) or as a two-column table titled ``title`` (fields
    without a value, which do not apply to this encode, left out), then its notes."""
    if as_json:
        print(json.dumps(result, indent=None, sort_keys=False))
        return
    table = Table(title=title, show_header=True)
    table.add_column("field")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
        if value is None or isinstance(value, (list, dict)):
            continue
        table.add_row(key, str(value))
    _console().print(table)
    for note in result.get("notes", []):
        _console().print(f"note: {note}")


@to_stdout
def print_info(result: dict[str, Any], as_json: bool, title: str) -> None:
    """``info``'s result: the file's figures, one row per video, one per section (or one JSON line)."""
    if as_json:
        print(json.dumps(result))
        return
    print_result({k: v for k, v in result.items() if k not in ("videos", "segments", "sections")}, False, title)
    kind = "segment" if "segments" in result else "video"
    videos = Table(title=f"{kind}s")
    first = ("first frame",) if kind == "segment" else ()
    columns = ("model", "frames", "size", "frame rate", "params", "weight bits", "embed bits", "bytes", "bpp")
    for col in (kind, *first, *columns):
        videos.add_column(col)
    for v in result[f"{kind}s"]:
        videos.add_row(
            str(v[kind]),
            *((str(v["first_frame"]),) if first else ()),
            v["model"],
            str(v["frames"]),
            f"{v['width']}x{v['height']}",
            v["frame_rate_fraction"],
            str(v["params"]),
            "-" if v["weight_bits"] is None else str(v["weight_bits"]),
            "-" if v["embed_bits"] is None else str(v["embed_bits"]),
            str(v["bytes"]),
            f"{v['bpp']:.4f}",
        )
    _console().print(videos)
    for v in result[f"{kind}s"]:
        if "note" in v:
            _console().print(f"note: {v['note']}")
        if "camera" in v:
            c = v["camera"]
            _console().print(
                f"camera ({kind} {v[kind]}): {c['model']}, canvas {c['canvas_width']}x{c['canvas_height']} "
                f"of {c['time_steps']} time step{'s' if c['time_steps'] != 1 else ''}, "
                f"maps {c['motion_bytes']} bytes ({c['motion_bytes_per_frame']:.1f} a frame), "
                f"frames move up to {c['largest_move_px']:.1f} px"
            )
    for v in result[f"{kind}s"]:
        if "pixels" in v:
            px = v["pixels"]
            coded = "its planes natively" if px["coding"] != "rgb" else "as 8-bit RGB"
            coded += " (the model's 4:2:0 output stage)" if px.get("stage") == "yuv420" else ""
            _console().print(f"pixels ({kind} {v[kind]}): {px['source'] or 'an RGB'} source, coded {coded}")
    _print_provenance(result[f"{kind}s"], kind)
    table = Table(title="sections")
    for col in ("tag", "video", "bytes"):
        table.add_column(col)
    for s in result["sections"]:
        table.add_row(s["tag"], str(s["video"]), str(s["bytes"]))
    _console().print(table)


def _print_provenance(videos: list[dict[str, Any]], kind: str) -> None:
    """How each video (or run of segments made alike) was made, from the file's ``PROV`` sections;
    printed without markup: the text comes from the file."""
    shown: dict[str, Any] | None = None
    for v in videos:
        made = v.get("provenance")
        if made is None or made == shown:
            continue
        shown = made
        lines = [f"made by ({kind} {v[kind]}): {made.get('encoder', 'an encoder that does not say')}"]
        lines += [f"  {k}: {val}" for k, val in made.items() if k != "encoder"]
        _console().print("\n".join(lines), markup=False, highlight=False)


def _fmt(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


@to_stdout
def print_bd_rates(result: dict[str, Any]) -> None:
    """The bench's BD-rate list as a table."""
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
    _console().print(table)
