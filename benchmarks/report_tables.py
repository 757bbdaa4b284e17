"""The per-file renderers of docs/results.md (``python benchmarks/report.py --markdown``): each is
given one committed result file under benchmarks/results/, read at print time, and prints its
Markdown tables ending with a blank line, so that no figure on the page is typed by hand."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def load(name: str) -> dict | None:
    """The committed result file ``name`` under benchmarks/results/, or None if it is not there."""
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def f(v: float | None, spec: str) -> str:
    """``v`` formatted with ``spec``, or "n/a" for a missing value."""
    return "n/a" if v is None else format(v, spec)


def pct(v: float | None) -> str:
    """A signed percentage; blank where there is none (the curves share no range)."""
    return "" if v is None else f"{v:+.1f} %"


def db(v: float | None) -> str:
    """A signed difference in dB; blank where there is none."""
    return "" if v is None else f"{v:+.2f} dB"


def row(*cells: object) -> None:
    """One Markdown table row (a '|' inside a cell is escaped)."""
    print("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")


def head(names: str) -> None:
    """A table's header row (``names`` separated by " | ") and its rule."""
    print(f"| {names} |\n|" + "---|" * (names.count(" | ") + 1))


def points(pts: list[list[float]]) -> str:
    """A curve's (bpp, PSNR) points as "bpp / PSNR, ..."."""
    return ", ".join(f"{b:.3f} / {q:.2f}" for b, q in pts)


def image(stem: str) -> None:
    """The committed plot ``stem``.png, linked from docs/, if there is one."""
    if (RESULTS / f"{stem}.png").is_file():
        print(f"![{stem}](../benchmarks/results/{stem}.png)\n")


def converge(d: dict) -> None:
    """converge-cpu.json: per clip and time each arm's seed-mean points, its BD-rate and BD-PSNR
    against a8df334, the paired PSNR differences and its BD-rate against x265; per arm the mean."""
    print(f"Machine: {d['machine']}.\n")
    head(
        "clip, time | arm | points (bpp / PSNR dB) by budget | BD-rate vs a8df334 | BD-PSNR vs a8df334 | "
        "paired dPSNR mean / least | BD-rate vs x265 medium"
    )
    for key, cell in d["summary"]["by_clip"].items():
        for arm, r in cell.items():
            base, x265 = r.get("vs_baseline") or {}, (r.get("vs_x265") or {}).get("bd_rate_percent")
            pairs = [p["psnr_db"] for p in r.get("paired_psnr_db", [])]
            paired = f"{sum(pairs) / len(pairs):+.2f} / {min(pairs):+.2f}" if pairs else ""
            row(
                key,
                arm,
                points(r["points"]),
                pct(base.get("bd_rate_percent")),
                db(base.get("bd_psnr_db")),
                paired,
                pct(x265),
            )
    print()
    for arm, s in d["summary"]["by_arm"].items():
        if s["clips"]:
            print(
                f"Mean BD-rate of `{arm}` against a8df334: {pct(s['mean_bd_rate_percent'])}, over the {s['known']} "
                f"of {s['clips']} clip-and-time cells where the two curves share a PSNR range.\n"
            )
    times = sorted({r["time"] for r in d["runs"]})
    walls = [[r["wall_seconds"] for r in d["runs"] if r["time"] == t] for t in times]
    spans = "; ".join(f"`--time {t:g}`: {min(w):.1f}-{max(w):.1f} s" for t, w in zip(times, walls, strict=True))
    print(f"Wall time of one run, start-up included: {spans} ({len(d['runs'])} runs).\n")


MOTION_REFS = {
    "hinerv-mc": "hinerv",
    "canvas": "canvas none",
    "canvas translation": "canvas",
    "canvas affine": "canvas",
}
"""The reference each arm's "vs its own" column compares with: the same model without motion, or
(the camera ablations) with its default camera."""


def motion(d: dict) -> None:
    """motion-cpu.json: per clip and --time each arm's points, its BD-rate against its own reference
    (:data:`MOTION_REFS`), hnerv, a8df334 and x265, the camera maps' bytes a frame; the summary."""
    commits = ", ".join(sorted({r["commit"] for r in d["runs"]}))
    print(f"Machine: {d['machine']}; commit {commits}; budgets {', '.join(f'{b:g}' for b in d['budgets'])} bpp.\n")
    head("clip | arm | points (bpp / PSNR dB) | vs its own | vs hnerv | vs a8df334 | vs x265 medium | maps, B a frame")
    for clip, cell in d["summary"]["by_clip"].items():
        for arm, r in cell.items():
            cams = [x["camera"] for x in d["runs"] if (x["clip"], x["arm"]) == (clip, arm) and x.get("camera")]
            side = f"{sum(c['motion_bytes_per_frame'] for c in cams) / len(cams):.1f}" if cams else ""
            own = MOTION_REFS.get(arm)
            refs = [f"vs_{own}" if own else None, "vs_hnerv", "vs_a8df334", "vs_x265"]
            rates = [pct((r.get(k) or {}).get("bd_rate_percent")) if k else "" for k in refs]
            row(clip, arm, points(r["points"]), *rates, side)
    print()
    for pair, s in d["summary"].get("pairs", {}).items():
        if s["moving_defined"].startswith("0 of ") and s["other_defined"].startswith("0 of "):
            continue  # no BD-rate of this pair is defined in this file
        print(
            f"- `{pair}`: mean BD-rate {pct(s['moving_mean_percent'])} over the moving-camera clips (shift, zoom, "
            f"rotate, shake, pan, photo; defined on {s['moving_defined']}); the worst elsewhere "
            f"{pct(s['other_worst_percent'])} (defined on {s['other_defined']})."
        )
    print()


def time_load(d: dict) -> None:
    """time-load-cpu*.json: each arm under each load, wall and planned seconds, epochs (and their
    share of the same arm's idle epochs), threads chosen at the start, PSNR and bpp."""
    print(f"{d['what']}; {d['machine']}, one run per cell.\n")
    head("arm | load | wall s | planned s | epochs | epochs / idle | threads (start) | PSNR dB | bpp")
    for r in d["runs"]:
        share = d["epochs_share_of_idle"].get(f"{r['arm']} {r['load']}", 1.0 if r["load"] == "idle" else None)
        cells = (r["arm"], r["load"], f"{r['wall_seconds']:.1f}", f(r["planned_seconds"], ".1f"), r["epochs"])
        row(*cells, f(share, ".2f"), r["threads"] or "", f"{r['psnr']:.2f}", f"{r['bpp']:.4f}")
    print()


def presets(d: dict) -> None:
    """presets-cpu*.json: one default encode per clip and preset, its wall seconds and its report."""
    print(f"{d['what']}; {d['cores']} cores, one encode at a time.\n")
    head("clip | preset | frames | size | values | epochs | wall s | encode s | bpp | PSNR dB | MS-SSIM")
    for r in d["runs"]:
        cells = (r["clip"], r["preset"], r["frames"], f"{r['height']}x{r['width']}", r["params"], r["epochs"])
        row(*cells, f"{r['wall_seconds']:.1f}", f"{r['encode_seconds']:.1f}", *_rep(r))
    print()


def short_clips(d: dict) -> None:
    """short-clip-presets.json: each command's epochs, seconds and report on a clip under 132 frames."""
    print(f"{d['what']}; {d['machine']}. Clips:\n")
    print("".join(f"- `{name}`: {what}\n" for name, what in d["clips"].items()))
    head("command | frames | size | values | epochs | encode s | bpp | PSNR dB | MS-SSIM")
    for r in d["runs"]:
        cells = (f"`{r['command']}`", r["frames"], f"{r['height']}x{r['width']}", r["params"], r["epochs"])
        row(*cells, f"{r['encode_seconds']:.0f}", *_rep(r))
    print()


def speed(d: dict) -> None:
    """speed-cpu.json: training frames per second with each switch, the fit's GFLOP/s and the decode
    speed; then each variant's step times; then the ``--time`` encodes before and after."""
    print(f"{d['machine']}; {d['clip']}; models sized for {d['budget_bpp']} bpp; nvcodec {d['nvcodec']}.\n")
    first = next(iter(d["models"].values()))
    variants = [k for k, v in first.items() if isinstance(v, dict) and "train_fps" in v]
    fps_head = " | ".join(f"decode fps {s}" for s in first["decode_fps"])
    ceiling = f"fit GFLOP/s (ceiling {d['ceiling_gflops']:.0f})"
    head(f"model | {' | '.join(f'{v} (frames/s)' for v in variants)} | all / before | {ceiling} | {fps_head}")
    for model, m in d["models"].items():
        fl = m["flops"]
        gf = f"{fl['fit']['achieved_gflops']:.0f} (encoder steps) / {fl['table']['achieved_gflops']:.0f} (table steps)"
        fps = (f"{x:.1f}" for x in m["decode_fps"].values())
        row(model, *(f"{m[v]['train_fps']:.1f}" for v in variants), f"**{m['ratio_all_over_before']:.2f}**", gf, *fps)
    print()
    head("model | variant | encoder step ms | table step ms | rate–distortion step ms | mix encoder / table / rd")
    for model, m in d["models"].items():
        for v in variants:
            s, mix = m[v], m[v]["mix"]
            ms = (f"{s[k] * 1000:.1f}" for k in ("fit_step_s", "table_step_s", "rd_step_s"))
            row(model, v, *ms, f"{mix['fit']:g} / {mix['table']:g} / {mix['rd']:g}")
    print()
    head("model | code | epochs | planned s | encode s | bpp | PSNR dB | MS-SSIM")
    for model, m in d["models"].items():
        for code, t in m.get("timed", {}).items():
            row(model, code, t["epochs"], f(t["planned_seconds"], ".1f"), f"{t['encode_seconds']:.1f}", *_rep(t))
    print()


def _rep(t: dict) -> tuple[str, str, str]:
    """bpp, PSNR and MS-SSIM of a report, formatted."""
    return f"{t['bpp']:.4f}", f"{t['psnr']:.2f}", f(t.get("ms_ssim"), ".4f")


def segments(d: dict) -> None:
    """segments-cpu.json: the acceptance encode, peak memory against length, and rate split by frames
    against one shared λ."""
    a, m, al = d["acceptance"], d["memory"], d["allocation"]
    print(f"Machine: {d['machine']['platform']}, {d['machine']['cpus']} cores.\n")
    head("check | result")
    report = f"{a['entries']} entries, {a['decoded_frames']} decoded frames, {a['bpp']:.3f} bpp, {a['psnr']:.2f} dB"
    row(f"`{a['command']}`", f"{report}, {a['seconds_one_process']:.1f} s")
    same = "byte-identical to" if a["torchrun_byte_identical"] else "different from"
    row("the same under `torchrun --nproc_per_node 2`", f"{same} the one-process file, {a['seconds_torchrun_2']:.1f} s")
    for key, v in ((k, v) for k, v in m.items() if isinstance(v, dict)):
        row(f"peak RSS, {key}: `--segment {v['segment']}`, segments: {v['segments']}", f"{v['peak_rss_mib']} MiB")
    row("peak RSS, 4x over 1x", f"{m['ratio_4x_over_1x']:.2f}x")
    split, shared = al["split_by_frames"], al["shared_lambda"]
    row("rate split by frames (each segment at `--bpp`)", f"{split['bpp']:.3f} bpp, {split['psnr']:.2f} dB")
    row(f"one shared λ {shared['lambda']:.3f} (`--lambda`, bisected to the split's size)", _bpp_db(shared))
    for s in (x for x in al["shared_lambda_tries"] if x != shared):
        row(f"one shared λ {s['lambda']:.3f}, a try of the bisection", _bpp_db(s))
    row("PSNR of the shared λ minus the split's, at matched size", f"{al['psnr_gain_shared_over_split_db']:+.2f} dB")
    print(f"\nMemory: {m['setting']}. Allocation: {al['setting']}.\n")


def _bpp_db(r: dict) -> str:
    """ "bpp, PSNR" of a run."""
    return f"{r['bpp']:.3f} bpp, {r['psnr']:.2f} dB"


def zoo_verdicts(d: dict) -> None:
    """models-cpu.json, by model: the paired PSNR difference from HNeRV with its own recipe, with
    HNeRV's and in other arms, and which of them beat the fusion-loss control (HNeRV on that loss)."""
    diffs = d["paired_psnr_diff_vs_hnerv_db"]
    off = max(abs(r["params"] / r["sized_to"] - 1) for r in d["runs"]) * 100
    print(f"Every run's values are within {off:.1f} % of the count it was sized to.\n")
    head("model | budget | own recipe: PSNR minus HNeRV's (by seed) | HNeRV's recipe | other arms | above the control")
    for budget, control in diffs.get("hnerv/fusion", {}).items():
        row("`hnerv/fusion` (the control)", budget, _diff(control), "", "", "")
        for model in (a for a in diffs if "/" not in a and a != "hnerv"):
            arms = {(a.split("/", 1) + ["own"])[1]: v[budget] for a, v in diffs.items() if a.split("/")[0] == model}
            cells = {k: _diff(v) for k, v in arms.items()}
            above = ", ".join(k for k, v in arms.items() if v["mean"] > control["mean"]) or "none"
            others = "; ".join(f"{k}: {c}" for k, c in cells.items() if k not in ("own", "common"))
            row(f"`{model}`", budget, cells.get("own", ""), cells.get("common", ""), others, above)
    print()


def _diff(v: dict) -> str:
    """A paired difference: its mean, then each seed's."""
    return f"{v['mean']:+.2f} dB ({' / '.join(f'{x:+.2f}' for x in v['by_seed'].values())})"


def fuzz_nrv(d: dict) -> None:
    """fuzz-nrv.json: outcomes by kind of damage, the totals, and the crafted files through the CLI."""
    s = d["setting"]
    print(
        f"{d['cases']} cases in {d['seconds']:.0f} s, seed {s['seed']}, {s['memory_limit_gib']:g} GiB address-space "
        f"limit, {s['seconds_per_case']:g} s a case; {s['machine']}, torch {s['torch']}.\n"
    )
    outcomes = sorted({o for k in d["by_kind"].values() for o in k})
    head(" | ".join(["kind", *outcomes]))
    for kind, o in d["by_kind"].items():
        row(kind, *(o.get(x, 0) for x in outcomes))
    row("**all**", *(d["outcomes"].get(x, 0) for x in outcomes))
    cli = d["cli"]
    exits = ", ".join(str(e) for e in sorted({c["exit"] for c in cli}))
    one_line = sum(len(c["stderr"]) == 1 and not c["left"] for c in cli)
    print(
        f"\nCrashes: {len(d['crashes'])}; peak RSS {d['peak_rss_mib']:.0f} MiB. The crafted files through "
        f"`nvcodec info` and `decode`: {len(cli)} runs, exit status {exits}, {one_line} of them with one line on "
        f"stderr and no file left.\n"
    )


def fuzz_resume(d: dict) -> None:
    """fuzz-resume.json: outcomes by damage and in all."""
    print(f"{d['machine']}; {d['seconds']} s.\n")
    by: dict[str, dict[str, int]] = {}
    for key, n in d["by_damage"].items():
        damage, outcome = key.rsplit(":", 1)
        by.setdefault(damage, {})[outcome] = n
    outcomes = sorted({o for v in by.values() for o in v} | set(d["outcomes"]))
    head(" | ".join(["damage", *outcomes]))
    for damage, v in by.items():
        row(damage, *(v.get(o, 0) for o in outcomes))
    row("**all**", *(d["outcomes"].get(o, 0) for o in outcomes))
    print(f"\n{d['cases']} cases, {d['wrong']} wrong; {d['segments_refitted']} segments fitted again on resume.\n")


def core_cpu(d: dict) -> None:
    """core-cpu.json, the first points: one row per budget, and the decoded file checked."""
    print(
        f"Clip: {d['clip']}. Machine: {d['machine']['platform']}, {d['machine']['cpus']} cores, "
        f"torch {d['machine']['torch']}.\n"
    )
    print("| model | budget | bpp (file) | bytes | params | PSNR dB | MS-SSIM | epochs | encode s | decode fps |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in d["points"]:
        print(
            f"| {p['model']} | {p['budget']} | {p['bpp']:.4f} | {p['bytes']} | {p['params']} | {p['psnr']:.2f} | "
            f"{f(p['ms_ssim'], '.4f')} | {p['epochs']} | {p['encode_seconds']:.0f} | {p['decode_fps']:.0f} |"
        )
    same = all(p["psnr_decoded_file"] == p["psnr"] for p in d["points"])
    notes = "".join(f" {n}." for n in sorted({n for p in d["points"] for n in p.get("notes", [])}))
    print(
        f"\nPSNR measured on the decoded `.mkv` (`psnr_decoded_file`) {'equals' if same else 'differs from'} the "
        f"encoder's report{' exactly at every point' if same else ''}.{notes}\n"
    )


def bench(name: str, shown_in: tuple[str, ...] = ()) -> None:
    """A bench result: its setting, points and BD-rates against the anchors; rows identical to those
    of the results ``shown_in`` (printed in their own sections) are not repeated."""
    d = load(f"{name}.json")
    if d is None:
        return
    env, cfg, pts = d["environment"], d["config"], d["points"]
    encoders = ", ".join(sorted({p["encoder_version"] for p in pts if p.get("kind") == "anchor"}))
    notes = "".join(f" {n}." for n in sorted({p["ms_ssim_note"] for p in pts if p.get("ms_ssim_note")}))
    print(
        f"`{name}`: nvcodec {env['nvcodec']} (commit {', '.join(sorted({p['git_commit'] for p in pts}))}), "
        f"torch {env['torch']}, PyAV {env['pyav']}, {encoders}, machine {env['machine']}, GPU {env['gpu']}. "
        f"Clip {', '.join(sorted({p['clip'] for p in pts}))}; {cfg['epochs']} epochs, preset {cfg['preset']}; "
        f"anchors at preset {cfg['anchor_preset']}, CRF bisected to each budget.{notes}\n"
    )
    seen = [_bench_rows(load(f"{n}.json") or {"points": [], "bd_rate": []}) for n in shown_in]
    (points, curves), bds = _bench_rows(d)
    old_points, old_bds = {r for (s, _), _ in seen for r in s}, {r for _, b in seen for r in b}
    print("| codec | target bpp | bpp | RGB PSNR | YUV 6:1:1 PSNR | MS-SSIM | encode s | decode fps |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(r for r in points if r not in old_points))
    print("\n| model | anchor | metric | BD-rate | BD-PSNR dB | note |")
    print("|---|---|---|---|---|---|")
    print("\n".join(r for r in bds if r not in old_bds))
    same = sorted({c for r, c in zip(points, curves, strict=True) if r in old_points})
    if same:
        n, m = sum(r in old_points for r in points), sum(r in old_bds for r in bds)
        files = " and ".join(f"`{s}.json`" for s in shown_in)
        bd = f" and {m} BD-rates" if m else ""
        print(f"\nNot repeated: {n} points ({', '.join(same)}){bd} identical to those of {files}.")
    print()


def _bench_rows(d: dict) -> tuple[tuple[list[str], list[str]], list[str]]:
    """A bench result's point rows (sorted by kind, curve and budget) with each row's curve, and
    its BD-rate rows, as :func:`bench` prints them."""
    points, curves = [], []
    for p in sorted(d["points"], key=lambda p: (p["kind"], p["curve"], p["budget"])):
        curves.append(p["curve"])
        if "error" in p:
            error = p["error"].split(": ", 1)[-1] if p["error"].startswith("/") else p["error"]
            points.append(f"| {p['curve']} | {p['budget']:g} | failed: {error} | | | | | |")
            continue
        points.append(
            f"| {p['curve']} | {p['budget']:.4g} | {p['bpp']:.4f} | {p['psnr']:.2f} | {p['psnr_yuv611']:.2f} | "
            f"{f(p['ms_ssim'], '.4f')} | {p['encode_seconds']:.1f} | {p['decode_fps']:.0f} |"
        )
    bds = [
        f"| {b['model']} | {b['anchor']} | {b['metric']} | {f(b['bd_rate_percent'], '+.1f')}% | "
        f"{f(b['bd_psnr_db'], '+.2f')} | {b['note'] or ''} |"
        for b in d["bd_rate"]
    ]
    return (points, curves), bds


def models_cpu(d: dict) -> None:
    """The zoo protocol: means per arm and budget, and the paired PSNR differences from HNeRV."""
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


def pfnr_cpu(d: dict) -> None:
    """Archives against separate files: per budget, totals and per-video bpp / PSNR."""
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
                f"{f(v['mean_psnr'], '.2f')} | {same} |"
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
