"""Rate control's decisions over fake size and quality functions: no model, no coder, exact answers."""

from __future__ import annotations

import pytest

from nvcodec.entropy import SpanError
from nvcodec.errors import NvcError
from nvcodec.pipeline.coded_size import coded_or_over
from nvcodec.ratecontrol import (
    EMBED_BITS_EST,
    PRUNE_GRID,
    WEIGHT_BITS_EST,
    Budget,
    DepthChoice,
    choose_bits,
    choose_depth,
    choose_prune,
    choose_step_scale,
    land_step_scale,
    params_for_budget,
)


def test_budget_window_in_bytes() -> None:
    budget = Budget(0.05, 132 * 160 * 320)  # 337,920 bits
    assert budget.max_bytes == 42240
    assert budget.min_bytes == 35904  # ceil(0.85 x 42240)
    assert Budget(0.1, 7).max_bytes == 0  # floor: a budget never rounds up past itself


def test_params_for_budget_spends_the_bits_left_after_overhead_and_embeddings() -> None:
    budget = Budget(0.5, 10_000)  # 5000 bits
    embed, overhead = 100, 200
    values = params_for_budget(budget, embed, overhead)
    weights = values - embed
    assert weights == 357  # (5000 - 8 x 200 - 6.1 x 100) / 7.8 = 357.7: the estimates are part of the decision
    assert (EMBED_BITS_EST, WEIGHT_BITS_EST) == (6.1, 7.8)
    assert params_for_budget(budget, embed, 10_000) == embed  # overhead alone exceeds it: no weights


def test_choose_prune_takes_the_smallest_fraction_that_fits() -> None:
    budget = Budget(1.0, 8000)  # 1000 bytes
    sizes = {p: int(1300 * (1 - p)) for p in PRUNE_GRID}  # 1300, 1235, 1170, 1105, 1040, 975, ...
    asked: list[float] = []

    def size_at(p: float) -> int:
        asked.append(p)
        return sizes[p]

    assert choose_prune(size_at, budget) == 0.25
    assert asked == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]  # stops at the first fit
    assert choose_prune(lambda p: 10**9, budget) == PRUNE_GRID[-1]


def _size(weight_bits: int, embed_bits: int) -> int:
    return 100 * weight_bits + 20 * embed_bits


def test_choose_bits_best_quality_inside_the_window() -> None:
    budget = Budget(1.0, 8 * 1000)  # window [850, 1000] bytes
    quality = {(8, 8): 30.0, (9, 5): 31.0, (7, 8): 29.0}
    choice = choose_bits(_size, lambda w, e: quality.get((w, e), 0.0), budget)
    # per weight depth, the richest embedding depth that fits: 9 -> 5 (1000), 8 -> 8 (960), 7 -> 8 (860)
    assert (choice.weight_bits, choice.embed_bits, choice.size, choice.psnr) == (9, 5, 1000, 31.0)


def test_choose_bits_below_the_window_takes_the_largest_file() -> None:
    budget = Budget(1.0, 8 * 1000)
    choice = choose_bits(_size, lambda w, e: 99.0 - w, budget, weight_bits=(6, 5), embed_bits=(8, 4))
    assert (choice.weight_bits, choice.embed_bits, choice.size) == (6, 8, 760)


def test_choose_bits_names_the_smallest_reachable_size_when_nothing_fits() -> None:
    budget = Budget(0.1, 8 * 1000)  # 100 bytes
    with pytest.raises(NvcError, match=r"smallest file reached is 0\.48 bpp"):
        choose_bits(_size, lambda w, e: 0.0, budget)  # smallest: 4-bit weights, 4-bit embeddings = 480 bytes


def test_choose_depth_deepest_that_fits_else_the_last_marked_over() -> None:
    sizes = {10: 500, 9: 450, 8: 400, 7: 350}
    assert choose_depth(sizes.__getitem__, 420, (10, 9, 8, 7)) == DepthChoice(8, 400, True)
    assert choose_depth(sizes.__getitem__, None, (10, 9, 8, 7)) == DepthChoice(10, 500, True)
    assert choose_depth(sizes.__getitem__, 100, (10, 9, 8, 7)) == DepthChoice(7, 350, False)


@pytest.mark.parametrize("at_one", [500, 950, 1500, 4000])
def test_step_scale_lands_the_file_in_its_window(at_one: int) -> None:
    budget = Budget(1.0, 8000)  # 1000 bytes
    size_at = lambda scale: int(at_one / scale**0.7)  # noqa: E731  coarser steps, smaller files
    scale = choose_step_scale(size_at, budget, low=0.93)
    assert 930 <= size_at(scale) <= 1000
    assert (scale == 1.0) == (at_one == 950)


def _unmeasured(scale: float) -> float:
    raise AssertionError(f"the quality at {scale} should not be measured")


@pytest.mark.parametrize("at_one", [500, 1500, 4000, 950])
def test_landing_measures_nothing_where_the_rule_decides(at_one: int) -> None:
    budget = Budget(1.0, 8000)  # 1000 bytes
    size_at = lambda scale: int(at_one / scale**0.7)  # noqa: E731
    scale = land_step_scale(size_at, budget, _unmeasured)
    assert 930 <= size_at(scale) <= 1000  # over, under the window, or at 0.95 of it already
    assert (scale == 1.0) == (at_one == 950)


def test_landing_lifts_a_file_in_the_window_only_where_it_measures_better() -> None:
    budget = Budget(1.0, 8000)  # 1000 bytes; the file at the fit's steps: 880, in [850, 1000]
    size_at = lambda scale: int(880 / scale**0.7)  # noqa: E731
    asked: list[float] = []

    def cliff(scale: float) -> float:  # the exact stage's integers: any other rounding loses
        asked.append(scale)
        return 35.0 if scale == 1.0 else 30.0

    assert land_step_scale(size_at, budget, cliff) == 1.0 and len(asked) == 2
    lifted = land_step_scale(size_at, budget, lambda scale: -scale)  # finer steps measure better
    assert lifted < 1.0 and 930 <= size_at(lifted) <= 1000
    assert land_step_scale(size_at, budget, _unmeasured, more=lambda: False) == 1.0  # no time left


def test_steps_too_fine_to_code_count_as_over_the_budget() -> None:
    def size_at(scale: float) -> int:  # undershoots at the fit's steps; below 0.5 the span overflows
        if scale < 0.5:
            raise SpanError("symbol span 73618 exceeds 65536")
        return int(600 / scale)

    with pytest.raises(SpanError):
        choose_step_scale(size_at, Budget(1.0, 8000))
    scale = choose_step_scale(coded_or_over(size_at), Budget(1.0, 8000))
    assert 0.5 <= scale < 1.0 and size_at(scale) <= 1000


def test_step_scale_refuses_a_budget_even_the_coarsest_steps_overshoot() -> None:
    with pytest.raises(NvcError, match="coarsest"):
        choose_step_scale(lambda scale: 5000, Budget(1.0, 8000))
