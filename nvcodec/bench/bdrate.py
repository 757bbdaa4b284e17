"""Bjontegaard deltas (pchip, via the ``bjontegaard`` package), only over the overlapping range."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import bjontegaard as bd


def _span(values: Sequence[float]) -> tuple[float, float]:
    return min(values), max(values)


def bd_metrics(anchor: Sequence[tuple[float, float]], test: Sequence[tuple[float, float]]) -> dict:
    """BD-rate (%) of ``test`` against ``anchor`` and BD-PSNR (dB), from (bpp, quality) points.

    BD-rate integrates over the qualities both curves reach, BD-PSNR over the rates both reach;
    where those ranges do not overlap the value is None and ``note`` gives both ranges.
    """
    out: dict = {"bd_rate_percent": None, "bd_psnr_db": None, "note": None}
    if len(anchor) < 2 or len(test) < 2:
        out["note"] = "fewer than two points on a curve"
        return out
    ra, qa = zip(*sorted(anchor), strict=True)
    rt, qt = zip(*sorted(test), strict=True)
    notes = []
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
