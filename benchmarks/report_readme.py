"""The README's generated parts (``report.py --status``, ``--presets``): its status table and its
sentence on the presets, printed from the committed result files and tested against the README."""

from __future__ import annotations

import json

from report_tables import RESULTS


def status() -> None:
    """The README's table: the ``default`` arm of converge-cpu.json (hnerv, the default before
    ``auto``) at equal --time on each clip, its points and its BD-rates against x265 medium
    yuv420p and against a8df334's default."""
    d = json.loads((RESULTS / "converge-cpu.json").read_text())
    print("| clip, `--time` | hnerv: bpp / PSNR dB at each budget | BD-rate vs x265 medium | vs a8df334 |")
    print("|---|---|---|---|")
    for cell, arms in d["summary"]["by_clip"].items():
        ours = arms.get("default")
        if ours is None:
            continue
        points = ", ".join(f"{b:.3f} / {q:.2f}" for b, q in ours["points"])
        x265, old = ours.get("vs_x265") or {}, ours.get("vs_baseline") or {}
        pct = lambda v: "n/a" if v is None else f"{v:+.1f} %"  # noqa: E731
        print(f"| {cell} | {points} | {pct(x265.get('bd_rate_percent'))} | {pct(old.get('bd_rate_percent'))} |")


def presets() -> None:
    """The README's sentence on what each preset costs and gives, from the newest committed
    measurement of each clip and preset (presets-cpu-final.json over presets-cpu.json)."""
    runs: dict[tuple[str, str], dict] = {}
    for name in ("presets-cpu.json", "presets-cpu-final.json"):
        for r in json.loads((RESULTS / name).read_text())["runs"]:
            runs[(r["clip"], r["preset"])] = r
    qcif = [runs[("qcif", p)] for p in ("fast", "medium", "slow")]
    bunny = [runs[("bunny", p)] for p in ("fast", "medium")]
    secs = lambda rs: " / ".join(f"{r['wall_seconds']:.0f}" for r in rs)  # noqa: E731
    dbs = lambda rs: " / ".join(f"{r['psnr']:.2f}" for r in rs)  # noqa: E731
    print(
        f"30 frames of 144x176 fast / medium / slow {secs(qcif)} s, {dbs(qcif)} dB; Bunny 160x320 fast / medium "
        f"{secs(bunny)} s, {dbs(bunny)} dB, all at 0.05 bpp"
    )


MOTION_RESULTS = "motion-cpu-epyc.json"
"""The camera-motion runs the README shows: the 2-core EPYC host's, where every `auto` and `hnerv`
row was re-run after the time sizing's fixes (motion-cpu.json, the faster host's, predates them)."""


def motion() -> None:
    """The README's camera-motion table: the ``auto`` arm of :data:`MOTION_RESULTS` on each clip, what
    it chose, its points and its BD-rates against hnerv, a8df334 and x265 medium yuv420p."""
    d = json.loads((RESULTS / MOTION_RESULTS).read_text())
    print("| clip | auto chose | bpp / PSNR dB at each budget | vs hnerv | vs a8df334 | vs x265 medium |")
    print("|---|---|---|---|---|---|")
    pct = lambda v: "n/a" if v is None else f"{v:+.1f} %"  # noqa: E731
    for clip, cell in d["summary"]["by_clip"].items():
        ours = cell.get("auto")
        if ours is None:
            continue
        chose = sorted({r["model"] for r in d["runs"] if (r["clip"], r["arm"]) == (clip, "auto")})
        points = ", ".join(f"{b:.3f} / {q:.2f}" for b, q in ours["points"])
        rates = [pct((ours.get(f"vs_{ref}") or {}).get("bd_rate_percent")) for ref in ("hnerv", "a8df334", "x265")]
        print(f"| {clip} | {', '.join(chose)} | {points} | {' | '.join(rates)} |")
