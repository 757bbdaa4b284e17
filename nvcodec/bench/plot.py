"""Rate-distortion plots: PSNR and MS-SSIM against bpp (log axis), one PNG per clip."""

from __future__ import annotations

from pathlib import Path


def plot_clip(rows: list[dict], clip: str, path: Path) -> None:
    """Draw every codec's curve for ``clip`` into ``path`` (needs matplotlib, the ``bench`` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    curves: dict[str, list[dict]] = {}
    for r in rows:
        if r["clip"] == clip and "error" not in r:  # a refused budget has no point to draw
            curves.setdefault(r["curve"], []).append(r)
    for name, pts in sorted(curves.items()):
        pts = sorted(pts, key=lambda r: r["bpp"])
        style = "o-" if pts[0]["kind"] == "nvcodec" else "s--"
        for ax, key in zip(axes, ("psnr", "ms_ssim"), strict=True):
            xs = [p["bpp"] for p in pts if p[key] is not None]
            ys = [p[key] for p in pts if p[key] is not None]
            if xs:
                ax.plot(xs, ys, style, label=name, markersize=4)
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    for ax, label in zip(axes, ("RGB PSNR (dB)", "RGB MS-SSIM"), strict=True):
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("bpp (whole file for nvcodec, packet payload for anchors)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(clip, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
