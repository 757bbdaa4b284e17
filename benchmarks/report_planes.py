"""docs/results.md's table of native 4:2:0 coding (``native-yuv-cpu.json``), beside
:mod:`report_tables`'s renderers of the other files."""

from __future__ import annotations

import report_tables as t


def native(d: dict) -> None:
    """Per clip and metric (6:1:1 YUV PSNR, RGB PSNR): each arm's points, its BD-rate against the
    RGB path (BD-PSNR where the curves share no range) and against x265 medium; then the mean
    YUV BD-rate of ``yuv`` against ``rgb`` over the clips that have one."""
    commits = ", ".join(sorted({r["commit"] for r in d["runs"]}))
    print(f"Machine: {d['machine']}; commits {commits}; `--time` {t.f(d['runs'][0]['time'], 'g')} s.\n")
    t.head("clip (format) | metric | arm | points (bpp / dB) | vs rgb: BD-rate (BD-PSNR) | vs x265 medium")
    rates = []
    for clip, cell in d["summary"].items():
        for metric, m in cell.items():
            for arm, pts in m["points"].items():
                vs = m.get(f"{arm}_vs_rgb") or {}
                rate = vs.get("bd_rate_percent")
                if (arm, metric) == ("yuv", "psnr_yuv") and rate is not None:
                    rates.append(rate)
                shift = t.db(vs.get("bd_psnr_db"))
                ours = " ".join(x for x in (t.pct(rate), f"({shift})" if shift else "") if x)
                x265 = (m["vs_x265"].get(arm) or {}).get("bd_rate_percent")
                label = "YUV 6:1:1" if metric == "psnr_yuv" else "RGB"
                t.row(f"{clip} ({d['formats'].get(clip, 'yuv420p')})", label, arm, t.points(pts), ours, t.pct(x265))
    if rates:  # a run of ablation arms alone has no `rgb` curve to measure against
        mean = sum(rates) / len(rates)
        print(f"\nMean YUV BD-rate of `yuv` against `rgb` over the {len(rates)} clips with one: {t.pct(mean)}.\n")
    else:
        print()
