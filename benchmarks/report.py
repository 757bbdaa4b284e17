"""Print the committed benchmark results as Markdown tables (the README's status table with
``--status``, docs/results.md's tables without it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def _f(v: float | None, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def core_cpu() -> None:
    """First points: one row per budget."""
    path = RESULTS / "core-cpu.json"
    if not path.is_file():
        return
    d = json.loads(path.read_text())
    print(
        f"Clip: {d['clip']}. Machine: {d['machine']['platform']}, {d['machine']['cpus']} cores, "
        f"torch {d['machine']['torch']}.\n"
    )
    print("| model | budget | bpp (file) | bytes | params | PSNR dB | MS-SSIM | epochs | encode s | decode fps |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in d["points"]:
        print(
            f"| {p['model']} | {p['budget']} | {p['bpp']:.4f} | {p['bytes']} | {p['params']} | {p['psnr']:.2f} | "
            f"{_f(p['ms_ssim'], '.4f')} | {p['epochs']} | {p['encode_seconds']:.0f} | {p['decode_fps']:.0f} |"
        )
    print()


def bench(name: str) -> None:
    """A bench result: points and BD-rates against x265."""
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        return
    d = json.loads(path.read_text())
    env = d["environment"]
    encoders = ", ".join(sorted({p["encoder_version"] for p in d["points"] if p.get("kind") == "anchor"}))
    print(
        f"`{name}`: nvcodec {env['nvcodec']} (commit {', '.join(sorted({p['git_commit'] for p in d['points']}))}), "
        f"torch {env['torch']}, PyAV {env['pyav']}, "
        f"{encoders}, machine {env['machine']}, GPU {env['gpu']}.\n"
    )
    print("| codec | target bpp | bpp | RGB PSNR | YUV 6:1:1 PSNR | MS-SSIM | encode s | decode fps |")
    print("|---|---|---|---|---|---|---|---|")
    for p in sorted(d["points"], key=lambda p: (p["kind"], p["curve"], p["budget"])):
        if "error" in p:
            print(f"| {p['curve']} | {p['budget']:g} | failed: {p['error']} | | | | | |")
            continue
        print(
            f"| {p['curve']} | {p['budget']:.4g} | {p['bpp']:.4f} | {p['psnr']:.2f} | {p['psnr_yuv611']:.2f} | "
            f"{_f(p['ms_ssim'], '.4f')} | {p['encode_seconds']:.1f} | {p['decode_fps']:.0f} |"
        )
    print("\n| model | anchor | metric | BD-rate | BD-PSNR dB | note |")
    print("|---|---|---|---|---|---|")
    for b in d["bd_rate"]:
        print(
            f"| {b['model']} | {b['anchor']} | {b['metric']} | {_f(b['bd_rate_percent'], '+.1f')}% | "
            f"{_f(b['bd_psnr_db'], '+.2f')} | {b['note'] or ''} |"
        )
    print()


def models_cpu() -> None:
    """The zoo protocol: means per arm and budget, and the paired PSNR differences from HNeRV."""
    path = RESULTS / "models-cpu.json"
    if not path.is_file():
        return
    d = json.loads(path.read_text())
    s = d["setting"]
    print(
        f"Setting: {s['clip']}; {s['epochs']} epochs; budgets {s['budgets_params']} values "
        f"({', '.join(f'{b:,}' for b in s['budgets_at_640x1280'])} at 640x1280); seeds {s['seeds']}; "
        f"{s['compression']}. Wall time {d['wall_seconds'] / 60:.0f} min.\n"
    )
    print("| arm | budget | seeds | values | fit PSNR | PSNR | MS-SSIM | bpp | encode s | decode fps |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    counts: dict = {}
    for r in d["runs"]:
        counts[(r["arm"], str(r["budget"]))] = counts.get((r["arm"], str(r["budget"])), 0) + 1
    for a, per in d["means"].items():
        for b, v in per.items():
            print(
                f"| {a} | {b} | {counts[(a, b)]} | {v['params']:.0f} | {v['fit_psnr']:.2f} | {v['psnr']:.2f} | "
                f"{v['ms_ssim']:.4f} | {v['bpp']:.3f} | {v['encode_seconds']:.0f} | {v['decode_fps']:.0f} |"
            )
    print("\n| arm | budget | PSNR minus HNeRV's, by seed (dB) | mean | spread |")
    print("|---|---|---|---|---|")
    for a, per in d["paired_psnr_diff_vs_hnerv_db"].items():
        for b, v in per.items():
            seeds = ", ".join(f"{k}: {x:+.2f}" for k, x in v["by_seed"].items())
            print(f"| {a} | {b} | {seeds} | {v['mean']:+.2f} | {v['spread']:.2f} |")
    print()


def pfnr_cpu() -> None:
    """Archives against separate files: per budget, totals and per-video bpp / PSNR."""
    path = RESULTS / "pfnr-cpu.json"
    if not path.is_file():
        return
    d = json.loads(path.read_text())
    print(
        f"Clips: {'; '.join(d['setting']['clips'])}. {d['setting']['epochs']} epochs per video. "
        f"Wall time {d['wall_seconds'] / 60:.0f} min.\n"
    )
    print("| --bpp | capacity | coding | total bytes | bpp (all clips) | mean PSNR dB | earlier videos identical |")
    print("|---|---|---|---|---|---|---|")
    for r in d["runs"]:
        for name, v in r["summary"].items():
            same = str(r["pfnr"]["earlier_videos_identical"]).lower() if name == "pfnr" else ""
            label = "pfnr archive" if name == "pfnr" else f"separate {name} files"
            print(
                f"| {r['budget']} | {r['capacity']} | {label} | {v['bytes']} | {v['bpp']:.4f} | "
                f"{_f(v['mean_psnr'], '.2f')} | {same} |"
            )
    print("\n| --bpp | capacity | clip | pfnr bpp / PSNR | nerv bpp / PSNR | hnerv bpp / PSNR |")
    print("|---|---|---|---|---|---|")
    for r in d["runs"]:
        for i, v in enumerate(r["pfnr"]["videos"]):
            cells = [
                f"{r[m]['videos'][i]['bpp']:.4f} / {r[m]['videos'][i]['psnr']:.2f}" for m in ("pfnr", "nerv", "hnerv")
            ]
            print(f"| {r['budget']} | {r['capacity']} | {v['clip']} | {' | '.join(cells)} |")
    print()


def status() -> None:
    """The README's table: today's default at equal --time on each clip of converge-cpu.json, its
    points and its BD-rates against x265 medium yuv420p and against a8df334's default."""
    d = json.loads((RESULTS / "converge-cpu.json").read_text())
    print("| clip, `--time` | default: bpp / PSNR dB at each budget | BD-rate vs x265 medium | vs a8df334 |")
    print("|---|---|---|---|")
    for cell, arms in d["summary"]["by_clip"].items():
        ours = arms.get("default")
        if ours is None:
            continue
        points = ", ".join(f"{b:.3f} / {q:.2f}" for b, q in ours["points"])
        x265, old = ours.get("vs_x265") or {}, ours.get("vs_baseline") or {}
        pct = lambda v: "n/a" if v is None else f"{v:+.1f} %"  # noqa: E731
        print(f"| {cell} | {points} | {pct(x265.get('bd_rate_percent'))} | {pct(old.get('bd_rate_percent'))} |")


if __name__ == "__main__" and "--status" in sys.argv:
    status()
elif __name__ == "__main__":
    core_cpu()
    bench("cpu-small")
    bench("gpu-full")
    bench("hinerv-cpu")
    bench("hinerv-cpu-synthetic")
    models_cpu()
    pfnr_cpu()
