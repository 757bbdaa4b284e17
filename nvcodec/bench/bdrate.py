"""Bjontegaard deltas (pchip, via the ``bjontegaard`` package), only over the overlapping range."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import bjontegaard as bd


def _span(values: Sequence[float]) -> tuple[float, float]:
    return min(values), max(values)


def pareto(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points, by rising rate, whose quality beats every cheaper point (the curve's front);
    BD integrals need rate and quality both strictly increasing."""
    front: list[tuple[float, float]] = []
    for rate, quality in sorted(points):
        if front and rate == front[-1][0]:
            continue
        if not front or quality > front[-1][1]:
            front.append((rate, quality))
    return front


def bd_metrics(anchor: Sequence[tuple[float, float]], test: Sequence[tuple[float, float]]) -> dict:
    """BD-rate (%) of ``test`` against ``anchor`` and BD-PSNR (dB), from (bpp, quality) points.

    BD-rate integrates over the qualities both curves reach, BD-PSNR over the rates both reach;
    where those ranges do not overlap the value is None and ``note`` gives both ranges.
    """
    out: dict = {"bd_rate_percent": None, "bd_psnr_db": None, "note": None}
    notes = []
    kept_a, kept_t = pareto(anchor), pareto(test)
    for name, kept, given in (("anchor", kept_a, anchor), ("test", kept_t, test)):
        if len(kept) < len(given):
            notes.append(f"{len(given) - len(kept)} {name} point(s) below the curve's front left out")
    if len(kept_a) < 2 or len(kept_t) < 2:
        out["note"] = "; ".join(notes + ["fewer than two points on a curve's rate-quality front"])
        return out
    ra, qa = zip(*kept_a, strict=True)
    rt, qt = zip(*kept_t, strict=True)
    (qa_lo, qa_hi), (qt_lo, qt_hi) = _span(qa), _span(qt)
    (ra_lo, ra_hi), (rt_lo, rt_hi) = _span(ra), _span(rt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if min(qa_hi, qt_hi) > max(qa_lo, qt_lo):
            out["bd_rate_percent"] = float(bd.bd_rate(ra, qa, rt, qt, method="pchip", require_matching_points=False))
        else:
            notes.append(
                f"quality ranges do not overlap (anchor {qa_lo:.3f}-{qa_hi:.3f}, test {qt_lo:.3f}-{qt_hi:.3f})"
            )
        if min(ra_hi, rt_hi) > max(ra_lo, rt_lo):
            out["bd_psnr_db"] = float(bd.bd_psnr(ra, qa, rt, qt, method="pchip", require_matching_points=False))
        else:
            notes.append(f"bpp ranges do not overlap (anchor {ra_lo:.4f}-{ra_hi:.4f}, test {rt_lo:.4f}-{rt_hi:.4f})")
    out["note"] = "; ".join(notes) or None
    return out
