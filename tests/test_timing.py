"""``--time``: durations, the epoch plan, option checks, and an encode that reports its plan."""

from __future__ import annotations

import dataclasses
import json
import time
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from nvcodec.errors import NvcError
from nvcodec.fit import FitConfig, FrameSource, fit, lr_factor
from nvcodec.fit import clock as clock_module
from nvcodec.fit.clock import Pace, StageClock, lr_at, snap
from nvcodec.io import Video, synthetic_clip
from nvcodec.models import Recipe, solve_config, spec
from nvcodec.pipeline import EncodeOptions, effort, threads, timing
from nvcodec.pipeline.options import Training
from nvcodec.pipeline.sizing import size_video
from nvcodec.pipeline.timefit import shortest_epochs
from nvcodec.pipeline.timing import TIME_SHARE, TimedPlan, parse_duration, plan_epochs, shortfall_notes
from nvcodec.progress import Reporter
from nvcodec.ratecontrol import Budget, finer_while_better


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("10m", 600), ("1.5h", 5400), ("1h30m", 5400), ("2m5s", 125)]
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "10x", "1m1h", "-5", "1e3", "0", "0s", "200h"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(NvcError, match="--time"):
        parse_duration(text)


def test_the_plan_takes_the_most_epochs_that_fit() -> None:
    per_epoch, post = 2.0, 10.0
    plan = plan_epochs(lambda e: per_epoch * e, post, 100.0)
    assert plan.epochs == int((TIME_SHARE * 100.0 - post) / per_epoch)
    assert plan.planned_seconds == pytest.approx(per_epoch * plan.epochs + post)
    assert plan_epochs(lambda e: per_epoch * e, post, 5.0).epochs == 1  # too little time: still one epoch
    stages = lambda e: sum(Training(warmup_share=Recipe().warm_share).stage_epochs(e))  # noqa: E731 - small epoch counts run more epochs than asked
    assert stages(plan_epochs(stages, 0.0, 4.0 / TIME_SHARE).epochs) <= 4


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"time": 60.0, "epochs": 5}, "at most one of --time and --epochs"),
        ({"time": 60.0, "rd": False}, "--time plans rate–distortion encodes"),
        ({"time": 60.0, "prune": 0.2}, "--time plans rate–distortion encodes"),
        ({"time": 60.0, "model": "hinerv", "patch": 32}, "whole-frame"),
        ({"time": -1.0}, "must be positive"),
    ],
)
def test_time_options_are_checked(given: dict, message: str) -> None:
    with pytest.raises(NvcError, match=message):
        EncodeOptions(**given)


def test_max_steps_stops_the_fit() -> None:
    model_spec = spec("hnerv")
    model = model_spec.build(solve_config(model_spec, 32, 64, 8, 3000), with_encoder=True)
    source = FrameSource(torch.zeros(8, 32, 64, 3, dtype=torch.uint8), (32, 64))
    seen = []
    fit(model, source, FitConfig(epochs=5, max_steps=3), Reporter(), after_step=lambda: seen.append(1))
    assert len(seen) == 3


def test_a_timed_encode_too_short_for_one_epoch_says_so(cli, clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.nrv"
    code, stdout, err = cli(
        "encode", clip_dir / "tiny.mkv", "-o", out, "--time", "0.1s", "--bpp", "1.0", "--json", "-q"
    )
    assert code == 0, err
    report = json.loads(stdout)
    assert report["planned_seconds"] > 0 and report["epochs"] >= 1 and report["encode_seconds"] > 0
    assert any("shortest encode" in n for n in report["notes"])


@pytest.mark.parametrize(("given", "shortest", "noted"), [(8.0, 3.2, False), (8.0, 8.0, False), (0.1, 3.2, True)])
def test_the_shortfall_note_is_given_only_when_the_time_is_short(given: float, shortest: float, noted: bool) -> None:
    assert bool(shortfall_notes(given, shortest)) == noted
    assert shortfall_notes(None, shortest) == [] and shortfall_notes(given, None) == []


@pytest.mark.parametrize("rd", [[], ["--rd"]])
def test_a_timed_archive_and_append_report_their_plans(rd: list[str], cli, clip_dir: Path, tmp_path: Path) -> None:
    out, args = tmp_path / "a.nrv", ["--bpp", "2.0", "--json", "-q", "--time", "1s"]
    code, stdout, err = cli("encode", clip_dir / "tiny.mkv", "-o", out, "--model", "pfnr", *rd, *args)
    assert code == 0, err
    first = json.loads(stdout)
    code, stdout, err = cli("append", out, clip_dir / "tiny.mkv", *args)
    assert code == 0, err
    for report in (first, json.loads(stdout)):
        assert report["planned_seconds"] > 0 and report["epochs"] >= 1


def test_the_clock_schedule_follows_the_step_schedule_by_share() -> None:
    for step in (0, 5, 10, 55, 99):
        assert lr_at(step / 100, 0.1) == pytest.approx(lr_factor(step, 100, 0.1))
    assert lr_at(2.0, 0.1) == pytest.approx(0.0) and lr_at(-1.0, 0.1) == pytest.approx(0.1)


def _clocked_fit(clock: StageClock, **kwargs: object) -> int:
    model_spec = spec("hnerv")
    model = model_spec.build(solve_config(model_spec, 32, 64, 8, 3000), with_encoder=True)
    source = FrameSource(torch.zeros(8, 32, 64, 3, dtype=torch.uint8), (32, 64))
    fit(model, source, FitConfig(epochs=1000, clock=clock), Reporter(), **kwargs)
    return clock.steps


def test_a_clocked_fit_stops_when_its_seconds_are_spent() -> None:
    assert _clocked_fit(StageClock(0.0, min_steps=5, epochs=1)) == 5  # no time: its fewest steps
    ran = _clocked_fit(StageClock(0.5, min_steps=1, epochs=1, start=time.perf_counter() - 0.4))
    assert 1 <= ran < 1000  # a fifth of the schedule was left
    clock = StageClock(60.0, min_steps=2, epochs=1, start=time.perf_counter() - 30.0)
    assert _clocked_fit(clock.until(0.5)) == 2  # already past its share: the fewest steps


def _run_clock(clock: StageClock, now: list[float], pace: object) -> int:
    """Steps ``clock`` lets run when step ``n`` takes ``pace(n)`` seconds of the patched clock."""
    while not clock.expired(clock.progress()):
        clock.steps += 1
        now[0] += pace(clock.steps)  # type: ignore[operator]
    return clock.steps


def _progress_of_a_fit(clock: StageClock, now: list[float]) -> list[float]:
    """The progress each step of one fit under ``clock`` reads before it runs (a step: 0.1 s)."""
    seen = []
    while not clock.expired(progress := clock.progress()):
        seen.append(progress)
        clock.steps += 1
        now[0] += 0.1
    return seen


@pytest.mark.parametrize("tolerance", [None, 0.15])
def test_a_clock_too_short_for_its_fewest_steps_stretches_its_schedule_over_them(
    tolerance: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    monkeypatch.setattr(clock_module.time, "perf_counter", lambda: now[0])
    # seconds for 3 steps at the pace they keep, one epoch (10 steps) the fewest each fit runs
    clock = StageClock(0.3, 10, 1, start=0.0, per_epoch=10, tolerance=tolerance, planned=3, pace=Pace(0.1, 0.1))
    first = _progress_of_a_fit(clock.until(0.25), now)  # the warm-up's part through the encoder
    second = _progress_of_a_fit(clock.until(1.0), now)  # then the embedding table's
    assert len(first) == len(second) == 10 and clock.progress() == pytest.approx(1.0)
    assert first == pytest.approx([0.025 * k for k in range(10)])
    assert second == pytest.approx([0.25 + 0.075 * k for k in range(10)])
    assert min(lr_at(p, 0.3) for p in first + second) > 0.01  # no step at the schedule's end (lr 0)


def test_a_planned_clock_keeps_its_steps_while_the_pace_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(clock_module.time, "perf_counter", lambda: now[0])
    assert [snap(s) for s in (0.2, 7, 16, 100, 104)] == [1, 7, 16, 99, 108]
    clock = StageClock(10.0, 1, 100, start=0.0, tolerance=0.15)  # 100 steps planned at 0.1 s
    assert clock.planned == 99 and _run_clock(clock, now, lambda n: 0.11) == 99  # 10 % slower: kept
    now[0] = 0.0
    clock = StageClock(10.0, 1, 100, start=0.0, tolerance=0.15)
    ran = _run_clock(clock, now, lambda n: 0.1 if n <= 30 else 0.3)  # 3x slower after 30 steps
    assert 40 < ran < 99 and now[0] < 10.0 * 1.2  # planned again: fewer steps, near its seconds
    now[0] = 0.0
    clock = StageClock(10.0, 1, 100, start=0.0)  # no tolerance: the seconds decide
    assert _run_clock(clock, now, lambda n: 0.11) == 91


def test_a_planned_clock_with_slack_is_planned_again_before_it_eats_the_next_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    monkeypatch.setattr(clock_module.time, "perf_counter", lambda: now[0])
    clock = StageClock(10.0, 1, 100, start=0.0, tolerance=0.15)  # 10 % slower: within the tolerance
    assert _run_clock(clock, now, lambda n: 0.11) == 99 and now[0] == pytest.approx(10.89)
    now[0] = 0.0
    clock = StageClock(10.0, 1, 100, start=0.0, tolerance=0.15, slack=0.5)  # at most 0.5 s late
    ran = _run_clock(clock, now, lambda n: 0.11)
    assert ran < 99 and now[0] <= 10.5  # planned again at its first check point
    now[0] = 0.0
    clock = StageClock(10.0, 1, 100, start=0.0, tolerance=0.15, slack=0.5)
    assert _run_clock(clock, now, lambda n: 0.095) == 99  # early, not late: the plan holds


def test_a_timed_plan_gives_a_stage_slack_from_the_stages_after_it() -> None:
    seconds, costs = {"warm": 1.0, "rd": 2.0, "exact": 2.0}, {"fit": 0.1, "table": 0.1, "rd": 0.2}
    plan = TimedPlan(seconds, {"warm": 5, "rd": 4, "exact": 1}, costs, 0.0, 1e9, 10, 0.15, slack=0.5)
    rd, exact = plan.clock("rd"), plan.clock("exact")
    assert rd.slack == pytest.approx(0.5 * rd.seconds * 2 / 8) and exact.slack is None  # the last: none after it
    assert TimedPlan(seconds, {"warm": 5, "rd": 4, "exact": 1}, costs, 0.0, 1e9, 10, 0.15).clock("rd").slack is None


def test_a_timed_plan_gives_its_clocks_the_training_s_tolerance() -> None:
    plan = TimedPlan({"warm": 1.0}, {"warm": 5}, {"fit": 0.1, "table": 0.1, "rd": 0.2}, 0.0, 1e9, 10, 0.2)
    clock = plan.clock("warm")
    assert clock.tolerance == 0.2 and clock.planned == snap(clock.seconds / 1.0 * 10)
    assert Training().plan_tolerance is not None


def test_the_time_plan_shares_the_seconds_left_and_follows_the_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: now[0])
    monkeypatch.setattr(clock_module.time, "perf_counter", lambda: now[0])
    seconds = {"warm": 1.0, "rd": 2.0, "exact": 2.0}
    plan = TimedPlan(seconds, {"warm": 5, "rd": 4, "exact": 1}, {"fit": 0.1, "table": 0.1, "rd": 0.2}, 10.0, 200.0, 10)
    warm = plan.clock("warm")  # 90 s to share: 5 : 8 : 2
    assert warm.seconds == pytest.approx(90.0 * 5 / 15) and warm.epochs == 30
    warm.steps, now[0] = 300, 130.0  # 300 steps the probe priced at 30 s took 30 s
    plan.observe(warm, 30.0)
    rd = plan.clock("rd")
    assert plan.slow == pytest.approx(1.0) and rd.seconds == pytest.approx(60.0 * 8 / 10)
    rd.steps, now[0] = 100, 170.0  # 100 steps priced at 20 s took 40 s: the machine slowed 2x
    plan.observe(rd, 20.0)
    exact = plan.clock("exact")  # the post-fit work re-priced at that pace too
    assert plan.slow == pytest.approx(2.0) and exact.seconds == pytest.approx(200.0 - 170.0 - 2.0 * 10.0)
    assert plan.epochs_run == 40 and plan.shortest() == pytest.approx(5.0 + 1.0 + 10.0)


def test_threads_follow_the_free_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = iter([(100.0, 400.0), (250.0, 600.0)])  # 150 of 200 jiffies busy
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threads, "allowed_cores", lambda: 2)
    assert threads.free_cores(0.01) == 1  # 1.5 cores busy elsewhere: one left
    monkeypatch.setattr(threads, "_cpu_times", lambda: None)
    assert threads.free_cores(0.01) == 2  # the load cannot be read: every allowed core
    before = torch.get_num_threads()
    try:
        assert threads.choose_threads(1) == 1 and torch.get_num_threads() == 1  # --threads holds
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("size_steps", [None, 130, 10**6])
def test_a_short_time_sizes_a_smaller_network(size_steps: int | None) -> None:
    video = Video(synthetic_clip(8, 48, 64), Fraction(25), "clip")
    options = EncodeOptions(bpp=8.0, time=1.0, device="cpu", training=Training(size_steps=size_steps))
    sized = size_video(video, options)
    full = size_video(video, dataclasses.replace(options, training=Training(size_steps=None)))
    count = options.spec.transmitted_count
    if size_steps is None:  # switched off: the budget's network
        assert sized.config == full.config and not sized.notes
    elif size_steps == 130:  # a smaller network gets them: fitted for the asked budget; finer steps
        assert count(sized.config) < count(full.config) and "planned time buys" in sized.notes[0]
        assert _steps(options, sized.config) >= 130 > _steps(options, full.config)
        assert sized.budget == full.budget == sized.asked  # than the fit's own only where they measure better
    else:  # none gets a million steps in a second: shrinking buys none, the budget keeps its network
        assert sized.config == full.config and sized.asked is None and sized.budget == full.budget
        assert sized.notes[0].startswith("no network gets 1000000 steps in the planned time")
    epochs = EncodeOptions(bpp=2.0, device="cpu").for_video(8, 48, 64, sized.config).planned_epochs
    assert epochs >= 1


@pytest.mark.parametrize("share", [None, 0.5, 1.0])
def test_where_no_network_gets_the_steps_one_that_gets_a_share_of_the_most_is_fitted(share: float | None) -> None:
    video = Video(synthetic_clip(8, 96, 128), Fraction(25), "clip")
    training = Training(size_steps=10**6, starved_share=share)
    options = EncodeOptions(bpp=16.0, time=1.0, device="cpu", training=training)
    sized = size_video(video, options)
    own = size_video(video, dataclasses.replace(options, training=Training(size_steps=None)))
    count, steps = options.spec.transmitted_count, lambda c: _steps(options, c, 8 * 96 * 128)  # noqa: E731
    half = size_video(video, dataclasses.replace(options, training=Training(size_steps=10**6, starved_share=0.5)))
    if share is None:  # switched off: bound only by the shortest encode, a larger network, below the budget
        assert "shortest encode" in sized.notes[0] and count(half.config) < count(sized.config) < count(own.config)
        return
    most = int(sized.notes[0].split(" of the ")[1].split()[0])  # the most steps the note says any network gets
    assert count(sized.config) < count(own.config) and steps(own.config) < share * most <= steps(sized.config)
    assert sized.asked == sized.budget == own.budget  # fitted for the asked budget, as when it gets size_steps
    assert count(sized.config) <= count(half.config)  # a larger share, a network no larger


@pytest.mark.parametrize("seconds", [0.05, 0.25])
def test_a_time_too_short_for_the_budget_s_shortest_encode_fits_a_network_that_has_it(seconds: float) -> None:
    video = Video(synthetic_clip(8, 48, 64), Fraction(25), "clip")
    options = EncodeOptions(bpp=8.0, time=seconds, device="cpu", training=Training(size_steps=10**6))
    sized, full = size_video(video, options), size_video(video, dataclasses.replace(options, time=10.0))
    plan = effort.fit_seconds(options, 8 * 48 * 64)
    assert plan is not None and shortest_epochs(options.spec, full.config, options.training) == 4  # 2 + rd + exact
    shortest = lambda config: 4 * effort.epoch_seconds(options.spec, config, 8, 1, options.training)  # noqa: E731
    assert shortest(full.config) > plan  # the budget's network would overrun the time
    if seconds == 0.05:  # no network fits: the budget's own, said
        assert sized.config == full.config and sized.notes == (
            "no network gets the shortest encode's 32 steps in the planned time",
        )
    else:  # a smaller one does: fitted for its own, smaller budget
        count = options.spec.transmitted_count
        assert count(sized.config) < count(full.config) and shortest(sized.config) <= plan
        assert "fewer than the shortest encode's 32 steps" in sized.notes[0] and "lands below" in sized.notes[0]
        assert sized.asked is None and sized.budget is not None and sized.budget.bpp < 8.0


def _steps(options: EncodeOptions, config: object, pixels: int = 8 * 48 * 64) -> int:
    """Steps the options' planned time buys the network of ``config`` (8 frames of ``pixels`` in all)."""
    seconds = effort.fit_seconds(options, pixels)
    assert seconds is not None
    return (
        effort.epochs_for(seconds, options.spec, config, 8, options.batch_size, options.training)
        * 8
        // options.batch_size
    )


def test_every_budget_the_time_binds_is_sized_alike() -> None:
    video = Video(synthetic_clip(8, 48, 64), Fraction(25), "clip")
    sized = [
        size_video(video, EncodeOptions(bpp=bpp, time=1.0, device="cpu", training=Training(size_steps=130)))
        for bpp in (8.0, 12.0, 16.0)
    ]
    assert all(s.config == sized[0].config for s in sized)  # one network the time can train,
    assert [s.budget.bpp for s in sized if s.budget] == [8.0, 12.0, 16.0]  # each fitted for its own budget
    assert all(s.asked == s.budget for s in sized)  # landing finer than the fit only where it measures better


def test_finer_steps_are_taken_only_while_they_measure_better() -> None:
    budget = Budget(1.0, 8000)  # 1000 bytes
    size_at = lambda s: int(400 / s)  # noqa: E731  finer steps, larger files
    peaked = lambda s: -abs(s - 0.6)  # noqa: E731  quality best near a factor of 0.6
    assert finer_while_better(1.0, size_at, budget, peaked) == pytest.approx(2**-0.75)  # 0.59: closest to 0.6
    assert finer_while_better(1.0, size_at, budget, lambda s: -s) == pytest.approx(2**-0.75)  # 3 tries at most
    assert finer_while_better(1.0, size_at, Budget(1.0, 4000), lambda s: -s) == pytest.approx(2**-0.25)
    assert finer_while_better(1.0, size_at, budget, lambda s: s) == 1.0  # finer measured worse: stay
    assert finer_while_better(1.0, size_at, budget, lambda s: -s, more=lambda: False) == 1.0  # no time left
    walks = [finer_while_better(1.0, size_at, Budget(b, 8000), peaked) for b in (0.4, 0.6, 1.0, 2.0)]
    assert [peaked(w) for w in walks] == sorted(peaked(w) for w in walks)  # a larger budget: never worse
