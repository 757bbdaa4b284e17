"""Rate–distortion plots fit for a paper: RGB PSNR, YUV 6:1:1 PSNR (when the points have it) and
RGB MS-SSIM against bpp or kbps (log axis), one figure per clip, with the coded size, frames and
frame rate in the title and the BD-rates against the anchors in the caption; PNG and SVG."""

from __future__ import annotations

from pathlib import Path

PANELS = (("psnr", "RGB PSNR (dB)"), ("psnr_yuv", "YUV 6:1:1 PSNR (dB)"), ("ms_ssim", "RGB MS-SSIM"))
RATE_AXES = {"bpp": "bpp (whole file for nvcodec, packet payload for anchors)", "kbps": "kbps"}


def _curves(rows: list[dict], clip: str) -> dict[str, list[dict]]:
    """The drawable points of ``clip`` by curve, by rising bpp (a refused budget has no point)."""
    curves: dict[str, list[dict]] = {}
    for r in rows:
        if r["clip"] == clip and "error" not in r:
            curves.setdefault(r["curve"], []).append(r)
    return {name: sorted(pts, key=lambda r: r["bpp"]) for name, pts in sorted(curves.items())}


def title(rows: list[dict], clip: str) -> str:
    """``clip: W x H, T frames at R fps`` from its points (the clip's name alone if they lack it)."""
    first = next((r for r in rows if r["clip"] == clip and r.get("frames")), None)
    if first is None:
        return clip
    return f"{clip}: {first['width']}x{first['height']}, {first['frames']} frames at {first['frame_rate']:g} fps"


def caption(bd_rows: list[dict], clip: str) -> str:
    """The BD-rates of ``bd_rows`` (our curves against the anchors) on ``clip``, one line per metric."""
    lines = []
    for metric, label in (("psnr", "RGB PSNR"), ("psnr_yuv", "YUV PSNR")):
        cells = [
            f"{b['model']} vs {b['anchor']}: "
            + ("n/a" if b["bd_rate_percent"] is None else f"{b['bd_rate_percent']:+.1f} %")
            for b in bd_rows
            if b["clip"] == clip and b["metric"] == metric
        ]
        if cells:
            lines.append(f"BD-rate ({label}): " + "; ".join(cells))
    return "\n".join(lines)


def plot_clip(
    rows: list[dict], clip: str, path: Path, fmt: str = "png", bd_rows: list[dict] | None = None, axis: str = "bpp"
) -> None:
    """Draw every codec's curve for ``clip`` into ``path`` as ``fmt`` (png, svg or pdf), the rate on
    ``axis`` (:data:`RATE_AXES`); needs matplotlib (the ``bench`` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    curves = _curves(rows, clip)
    panels = [(k, label) for k, label in PANELS if any(p.get(k) is not None for pts in curves.values() for p in pts)]
    text = caption(bd_rows or [], clip)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.4 + 0.18 * text.count("\n")))
    for name, pts in curves.items():
        style = "o-" if pts[0]["kind"] == "nvcodec" else "s--"
        for ax, (key, _) in zip(axes, panels, strict=True):
            xy = [(p[axis], p[key]) for p in pts if p.get(key) is not None and p.get(axis) is not None]
            if xy:
                ax.plot(*zip(*xy, strict=True), style, label=name, markersize=4)
    for ax, (_, label) in zip(axes, panels, strict=True):
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(RATE_AXES[axis])
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title(rows, clip), fontsize=9)
    if text:
        fig.text(0.01, 0.01, text, fontsize=7, va="bottom", ha="left")
    fig.tight_layout(rect=(0, 0.04 + 0.03 * (text.count("\n") + 1) if text else 0, 1, 1))
    fig.savefig(path, dpi=110, format=fmt)
    plt.close(fig)
