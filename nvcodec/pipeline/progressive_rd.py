"""The rate–distortion fit of one progressive (``pfnr``) video: after the distortion fit has
chosen the video's subnetwork, the weights it claims first and its head get learned steps and a
rate term (:func:`nvcodec.pipeline.rd.rd_stages`) while the weights earlier videos claimed stay
frozen; the session then holds learned tensors, landed in its budget by one factor on the steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import torch

from nvcodec import ratecontrol
from nvcodec.compress.learned import slice_axis
from nvcodec.fit import FrameSource
from nvcodec.fit.rd import RateModel, RDConfig, fit_rd
from nvcodec.format import Archive, Session
from nvcodec.models import ProgressiveModel
from nvcodec.pipeline.coded_size import CodedSize, coded_or_over
from nvcodec.pipeline.options import EncodeOptions
from nvcodec.pipeline.rd import rd_stages
from nvcodec.pipeline.sizing import budget_for, zero_tensor
from nvcodec.pipeline.timing import time_steps
from nvcodec.progress import Reporter

PREFIX = "weights."
"""How a progressive model's masked tensors are named among its transmitted parameters."""


@contextmanager
def _only(model: ProgressiveModel, new: dict[str, torch.Tensor]) -> Iterator[None]:
    """While inside, only the ``new`` entries of the masked tensors receive gradients (Adam with
    gradients that are always zero leaves a value where it is, so claimed weights stay frozen)."""
    hooks = [w.register_hook(lambda g, m=new[n]: g * m) for n, w in model.weights.items()]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def _session_rate(
    model: ProgressiveModel, masks: dict[str, np.ndarray], archive: Archive, cost: CodedSize, options: EncodeOptions
) -> tuple[RateModel, RDConfig, dict[str, torch.Tensor], ratecontrol.Budget | None]:
    """The quantizers of the video's new weights and head, the rate side of its fit, the new
    entries of each masked tensor, and its budget (None: none, or λ fixed)."""
    device = model.head.device
    _, used = archive.replay(len(archive.sessions) - 1)
    new = {n: torch.from_numpy(masks[n] & ~used[n]).to(device) for n in model.weights}
    rate = RateModel(model, {}, {PREFIX + n: m for n, m in new.items()}).to(device)
    meta = cost.meta
    pixels = meta.frames * meta.width * meta.height
    budget = budget_for(options.budget_bpp, meta.frames, meta.height, meta.width) if options.lam is None else None
    zeros = {n: zero_tensor((int(m.sum()),), None) for n, m in new.items() if bool(m.any())}
    head = tuple(model.head.shape)
    fixed = cost.session_bytes(archive.sessions, cost.session(masks, zeros, zero_tensor(head, slice_axis(head))))
    lam = options.lam if options.lam is not None else options.training.lambda_start
    target = ratecontrol.TARGET_SHARE * budget.bpp if budget else None
    rd = RDConfig(pixels, target, lam, fixed_bits=8 * fixed - rate.side_bits)  # masks and headers
    return rate, rd, new, budget


def rd_step_seconds(
    model: ProgressiveModel,
    masks: dict[str, np.ndarray],
    archive: Archive,
    cost: CodedSize,
    source: FrameSource,
    options: EncodeOptions,
) -> float:
    """Seconds of one rate–distortion step of the video's fit (for ``--time``), timed on ``model``
    (a copy: its weights move) with its masks fixed."""
    rate, rd, new, _ = _session_rate(model, masks, archive, cost, options)
    rate.attach(model)
    cfg = options.fit_config(1)
    with _only(model, {n: m.float() for n, m in new.items()}):
        seconds = time_steps(lambda k: fit_rd(model, rate, source, replace(cfg, max_steps=k), rd, Reporter()))
    rate.detach_from(model)
    return seconds


def rd_session(
    model: ProgressiveModel,
    masks: dict[str, np.ndarray],
    archive: Archive,
    cost: CodedSize,
    source: FrameSource,
    options: EncodeOptions,
    reporter: Reporter,
) -> Session:
    """Fit the video's new weights and head (masks fixed on ``model``) for distortion + λ x the
    bits they add; the session they make, in ``[0.93 B, B]`` of its budget when there is one."""
    rate, rd, new, budget = _session_rate(model, masks, archive, cost, options)
    with _only(model, {n: m.float() for n, m in new.items()}):
        rd_stages(model, rate, source, options, rd, reporter)

    def session_at(scale: float) -> Session:
        values = rate.transmitted(model)
        tensors = {n: q.export(values[n], scale) for n, q in zip(rate.names, rate.weights, strict=True)}
        head = tensors.pop("head")
        return cost.session(masks, {n.removeprefix(PREFIX): q for n, q in tensors.items()}, head)

    scale = 1.0
    if budget is not None:
        size_at = lambda s: cost.session_bytes(archive.sessions, session_at(s))  # noqa: E731
        scale = ratecontrol.choose_step_scale(coded_or_over(size_at), budget, ratecontrol.LANDING_SHARE)
    return session_at(scale)
