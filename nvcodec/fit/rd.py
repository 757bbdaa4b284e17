"""The rate–distortion fit: distortion + λ · (estimated bits per pixel of everything the file holds).

Every transmitted parameter is read through a torch parametrization that quantizes it with its own
learned steps (:class:`~nvcodec.compress.learned.LearnedQuantizer`), and every per-frame embedding
is quantized the same way before the decoder sees it. Two named stages follow a distortion-only
warm-up (:func:`nvcodec.fit.train.fit`):

* ``rd``: rounding replaced by uniform noise; the rate term is the per-slice Laplace bits of the
  noisy symbols; λ is steered so the estimated rate meets the target (a Lagrangian controller),
  or held fixed (``--lambda``);
* ``exact``: steps frozen at the bfloat16 values the file stores, rounding with a straight-through
  gradient: the network trains on the exact integers the decoder will read.

The side parameters (one bfloat16 step and scale per slice) are counted in the rate as the bytes
they take.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import torch
from torch import nn
from torch.nn.utils import parametrize

from nvcodec.compress.learned import (
    LearnedQuantizer,
    as_slices,
    frame_bits,
    laplace_bits,
    ml_bits,
    ml_bits_joint,
    perturbed_all,
    slice_axis,
)
from nvcodec.compress.quantize import Coding, QTensor, to_bf16_up
from nvcodec.entropy.context import HIDDEN, context_bits
from nvcodec.fit.context import GridContext, context_tensor
from nvcodec.fit.losses import make_loss
from nvcodec.fit.train import (
    EmbeddingTable,
    FitConfig,
    FrameSource,
    _autocast,
    decode_step,
    embeddings_for,
    epochs_run,
    make_optimizer,
    optimizer_step,
    train_steps,
    trainable,
)
from nvcodec.format.tensors import PAYLOAD_FRAMING_BYTES, RECORD_HEAD_BYTES, SCALE_BYTES, STEP_BYTES, context_net_bytes
from nvcodec.models.planes import frame_mse
from nvcodec.progress import Reporter

SIDE_BITS_PER_SLICE = 8 * (STEP_BYTES + SCALE_BYTES)
"""A step and a Laplace scale per slice, as the format stores them."""
LAMBDA_MAX = 1e3
"""Largest λ the controller steers to: about 10^5 times the λ of a fitted budget (1e-3 to 1e-2),
so a rate the fit cannot reach yet no longer drives the loss to infinity (the ``canvas`` model
with a time step per frame did, to NaN, in its first epochs)."""
MIN_START_SCALE = 0.05
"""Least Laplace scale a grid channel starts at (a channel of zeros still gets a finite one)."""
RECORD_BITS = 8 * (RECORD_HEAD_BYTES + PAYLOAD_FRAMING_BYTES)
"""Fixed bytes of a tensor record (tag, axis, symbol range, payload length), as bits."""
CONTEXT_NET_BITS = 8 * context_net_bytes(HIDDEN)
"""The ``GCTX`` section (framing, width, about two bytes per fixed-point weight), as bits."""
CALIBRATION_RANGE, CALIBRATION_ITERATIONS = 8.0, 24
""":meth:`RateModel.calibrate` searches step factors in exp(±8), to 2^-24 of that range in the log."""


@dataclass
class RDConfig:
    """The rate side of the fit.

    Attributes:
        pixels: frames x height x width of the video (bits are normalised to bits per pixel).
        target_bpp: the rate λ is steered to (None: λ stays at ``lam``).
        lam: the rate weight: loss = distortion + lam x bpp (the starting value when steered).
        gain: how fast λ follows the rate: each step λ *= exp(gain x (rate / target - 1)).
        fixed_bits: bits of the file that the fit does not change (headers, config), counted in the rate.
        rate_every: the rate term (weights and embeddings) is evaluated every this many steps,
            weighted by it (as NVRC does for its weights; 1: every step). The steps between train on
            distortion alone and λ follows the last evaluated rate.
        joint_rate: the weights' rate in one pass over all of them (:func:`ml_bits_joint`); False
            prices each tensor on its own (the same bits up to float rounding, several times the
            operations: the speed benchmark's "before").
    """

    pixels: int
    target_bpp: float | None = None
    lam: float = 1e-3
    gain: float = 0.05
    fixed_bits: float = 0.0
    rate_every: int = 1
    joint_rate: bool = True


@dataclass
class _State:
    """How the parametrizations quantize: ``mode`` (see :meth:`LearnedQuantizer.symbols`); with
    ``price`` False a noisy parameter is read as ``x + u step`` without its symbols (the same
    values, fewer operations), as on the steps that do not price the rate."""

    mode: str = "noise"
    price: bool = True
    symbols: dict[str, torch.Tensor] = field(default_factory=dict)
    noisy: dict[str, torch.Tensor] = field(default_factory=dict)


class _Quantized(nn.Module):
    """A parametrization: the parameter as the decoder will see it after quantization (only the
    ``select``ed entries, when given: the rest pass through as they are)."""

    def __init__(self, name: str, quantizer: LearnedQuantizer, state: _State, select: torch.Tensor | None) -> None:
        super().__init__()
        self.name, self.quantizer, self.state, self.select = name, quantizer, state, select

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        part = x if self.select is None else x[self.select]
        if self.state.mode == "noise" and not self.state.price:
            drawn = self.state.noisy.get(self.name)
            value = self.quantizer.perturbed(part) if drawn is None else drawn
        else:
            y = self.quantizer.symbols(part, self.state.mode)
            self.state.symbols[self.name] = y
            value = self.quantizer.restore(y, part)
        return value if self.select is None else x.masked_scatter(self.select, value)


class RateModel(nn.Module):
    """The learned quantizers of one model: one per transmitted parameter and per embedding.

    ``selections`` (boolean masks by parameter name) restrict a parameter to the entries the file
    holds (a progressive video's newly claimed weights), quantized as one flat slice; a parameter
    whose selection is empty is not transmitted at all. The model's feature grids
    (``grid_parameters``) get a step per channel and are priced by the grid context model
    (:class:`~nvcodec.fit.context.GridContext`, shared by all grids) with a learned scale
    multiplier per channel.
    """

    def __init__(
        self,
        model: nn.Module,
        embeddings: dict[str, torch.Tensor],
        selections: dict[str, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        params, selections = model.transmitted_parameters(), selections or {}
        self.names = [n for n in params if n not in selections or bool(selections[n].any())]
        self.selections = {n: selections[n] for n in self.names if n in selections}
        values = self.transmitted(model)
        grids = set(model.grid_parameters()) - set(self.selections)
        self.grid_shapes = {n: tuple(v.shape) for n, v in values.items() if n in grids}
        self.weights = nn.ModuleList(
            LearnedQuantizer(v, 0 if n in grids else None if n in self.selections else slice_axis(tuple(v.shape)))
            for n, v in values.items()
        )
        self.context = GridContext() if grids else None
        self.log_multipliers = nn.ParameterDict(
            {str(i): nn.Parameter(torch.zeros(s[0])) for i, s in enumerate(self.grid_shapes.values())}
        )
        self.embedding_names = list(embeddings)
        self.embeddings = nn.ModuleList(
            LearnedQuantizer(e, slice_axis(tuple(e.shape), embedding=True)) for e in embeddings.values()
        )
        for i, e in enumerate(embeddings.values()):
            self.register_buffer(f"cache{i}", e.detach().float().clone())
        self.state = _State()
        self.side_bits = SIDE_BITS_PER_SLICE * sum(q.log_step.numel() for q in [*self.weights, *self.embeddings])
        self.side_bits += RECORD_BITS * (len(self.weights) + len(self.embeddings))
        self.side_bits += CONTEXT_NET_BITS if grids else 0

    def transmitted(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The values of ``model`` (without the quantizers attached) that the file holds, by name."""
        params = model.transmitted_parameters()
        return {n: params[n][self.selections[n]] if n in self.selections else params[n] for n in self.names}

    @torch.no_grad()
    def calibrate(self, model: nn.Module, bits: float) -> float:
        """Multiply every step by one factor so that the rounded weights and embeddings cost about
        ``bits`` (bisection on the factor's log); returns the factor. The ``rd`` stage then starts
        at its target rate instead of walking there at the optimizer's pace."""
        tensors = [*self.transmitted(model).values()]
        caches = [getattr(self, f"cache{i}") for i in range(len(self.embeddings))]

        def cost(log_factor: float) -> float:
            total, factor = 0.0, math.exp(log_factor)
            for q, p in zip(self.weights, tensors, strict=True):
                total += float(ml_bits(torch.round(as_slices(p.detach().float(), q.axis) / (q.step() * factor))))
            for q, c in zip(self.embeddings, caches, strict=True):
                y = torch.round(as_slices(c, q.axis) / (q.step() * factor))
                total += float(torch.minimum(*frame_bits(y, c.shape[0], noise=False)))
            return total

        lo, hi = -CALIBRATION_RANGE, CALIBRATION_RANGE
        for _ in range(CALIBRATION_ITERATIONS):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if cost(mid) > bits else (lo, mid)
        for q in [*self.weights, *self.embeddings]:
            q.log_step.add_(hi)
        self._start_multipliers(tensors)
        return math.exp(hi)

    @torch.no_grad()
    def _start_multipliers(self, tensors: list[torch.Tensor]) -> None:
        """Start each grid channel's scale multiplier where the context model's predicted scale
        times it is the maximum-likelihood Laplace scale of the channel's calibrated symbols
        (the model's initial scale, about 2, priced grids whose values the calibration made far
        larger or smaller at tens of bits a value, and λ ran away)."""
        grids, context = list(self.grid_shapes), self.context
        if context is None:
            return
        for n, q, p in zip(self.names, self.weights, tensors, strict=True):
            if n not in self.grid_shapes:
                continue
            quantizer: LearnedQuantizer = q  # type: ignore[assignment]  # ModuleList items are Modules to mypy
            y = torch.round(as_slices(p.detach().float(), quantizer.axis) / quantizer.step())
            _, log2_scale = context.predict(y.view(self.grid_shapes[n]))
            ml = y.view(self.grid_shapes[n]).abs().flatten(1).mean(dim=1).clamp_min(MIN_START_SCALE)
            start = torch.log(ml) - math.log(2.0) * log2_scale.flatten(1).mean(dim=1)
            multiplier = self.log_multipliers[str(grids.index(n))]
            multiplier.copy_(start.to(multiplier.dtype))

    def attach(self, model: nn.Module) -> None:
        """Read every transmitted parameter of ``model`` through its quantizer."""
        for name, quantizer in zip(self.names, self.weights, strict=True):
            owner, attr = name.rsplit(".", 1) if "." in name else ("", name)
            quantized = _Quantized(name, quantizer, self.state, self.selections.get(name))
            parametrize.register_parametrization(model.get_submodule(owner), attr, quantized)

    def perturb(self, model: nn.Module) -> None:
        """Draw every transmitted parameter's noisy value for the step about to run at once
        (:func:`~nvcodec.compress.learned.perturbed_all`), in the order of :attr:`names`; the
        parametrizations read them instead of drawing their own (until ``state.noisy`` is
        cleared). A forward pass that reads the parameters in that order (hnerv's) gets the very
        values it drew itself before."""
        raw = [self._original(model, n) for n in self.names]
        if len({(x.dtype, x.device) for x in raw}) == 1:
            self.state.noisy = dict(
                zip(self.names, perturbed_all(cast(list[LearnedQuantizer], list(self.weights)), raw), strict=True)
            )

    def _original(self, model: nn.Module, name: str) -> torch.Tensor:
        owner, attr = name.rsplit(".", 1) if "." in name else ("", name)
        x = getattr(model.get_submodule(owner).parametrizations, attr).original
        return x[self.selections[name]] if name in self.selections else x

    def detach_from(self, model: nn.Module) -> None:
        """Remove the parametrizations, leaving the raw (unquantized) parameters in place."""
        for name in self.names:
            owner, attr = name.rsplit(".", 1) if "." in name else ("", name)
            parametrize.remove_parametrizations(model.get_submodule(owner), attr, leave_parametrized=False)

    @torch.no_grad()
    def scale_steps(self, factor: float) -> None:
        """Multiply every step (weights and embeddings) by ``factor``."""
        for q in [*self.weights, *self.embeddings]:
            q.log_step.add_(math.log(factor))

    def freeze_steps(self) -> None:
        """Fix every step at the bfloat16 value the file will store (for the ``exact`` stage)."""
        for q in [*self.weights, *self.embeddings]:
            with torch.no_grad():
                bf16 = torch.from_numpy(to_bf16_up(q.log_step.exp().float().cpu().numpy()))
                q.log_step.copy_(torch.log(bf16).to(q.log_step.device))
            q.log_step.requires_grad_(False)

    def quantize_embeddings(
        self, embeddings: dict[str, torch.Tensor], idx: torch.Tensor, price: bool = True
    ) -> tuple[dict, torch.Tensor]:
        """The embeddings of frames ``idx`` as the decoder sees them, and the bits of every frame's
        embedding: the cached values of the other frames with this batch's in place, priced the
        cheaper way (as they are or as frame residuals, :func:`frame_bits`). The batch's gradient
        is scaled by frames / batch, as if every frame had been in it. Without ``price`` the bits
        are not computed (zero) and only the cache takes the batch's values."""
        out, bits = {}, torch.zeros((), device=idx.device)
        for i, (name, q) in enumerate(zip(self.embedding_names, self.embeddings, strict=True)):
            value, cache = embeddings[name], getattr(self, f"cache{i}")
            out[name] = q.restore(q.symbols(value, self.state.mode), value)
            if not price:
                cache[idx] = value.detach().to(cache.dtype)
                continue
            k = cache.shape[0] / value.shape[0]
            v = value.to(cache.dtype)
            full = cache.index_put((idx,), v + (k - 1) * (v - v.detach()))  # value v, gradient k
            noise = self.state.mode == "noise"
            y = q.symbols(full, "clean" if noise else self.state.mode)
            static, predicted = frame_bits(y, cache.shape[0], noise)
            bits = bits + torch.minimum(static, predicted)
            cache[idx] = value.detach().to(cache.dtype)
        return out, bits

    def weight_bits(self, joint: bool = True) -> torch.Tensor:
        """Bits of the weights' symbols of the last forward pass (grids under the context model),
        the others priced in one pass (``joint``) or tensor by tensor."""
        grids = list(self.grid_shapes)
        total = torch.zeros((), device=self.weights[0].log_step.device) if self.weights else torch.zeros(())
        plain = []
        for n, q in zip(self.names, self.weights, strict=True):
            y = self.state.symbols[n]
            if n in self.grid_shapes:
                log_multiplier = self.log_multipliers[str(grids.index(n))]
                total = total + self.context.bits(y.view(self.grid_shapes[n]), log_multiplier)
            elif joint:
                plain.append(y)
            else:
                total = total + q.bits(y)
        return total + ml_bits_joint(plain) if plain else total

    @torch.no_grad()
    def export(self, model: nn.Module, step_scale: float = 1.0) -> dict[str, QTensor]:
        """The file's quantized parameters, every step multiplied by ``step_scale``: grids
        context-coded, the rest learned tensors."""
        net = self.context.export() if self.context is not None else None
        values, grids, out = self.transmitted(model), list(self.grid_shapes), {}
        for n, q in zip(self.names, self.weights, strict=True):
            out[n] = q.export(values[n], step_scale)
            if n in self.grid_shapes:
                multipliers = to_bf16_up(self.log_multipliers[str(grids.index(n))].exp().float().cpu().numpy())
                out[n] = context_tensor(out[n], multipliers, net)
        return out


def estimated_bits(tensors: list[QTensor]) -> float:
    """The rate the fit's model gives learned tensors as the file holds them: per-slice Laplace
    bits of their integers under their stored scales (grids: context-model bits, and the context
    model's section), plus their steps, scales and record fields."""
    nets = {id(q.context) for q in tensors if q.kind is Coding.CONTEXT}
    bits = CONTEXT_NET_BITS * len(nets)
    for q in tensors:
        if q.kind is Coding.CONTEXT:
            bits += context_bits(q.symbols, q.context, q.scales) + SIDE_BITS_PER_SLICE * len(q.steps) + RECORD_BITS
            continue
        slices = as_slices(torch.from_numpy(q.coded()).double(), q.axis)
        bits += float(laplace_bits(slices, torch.from_numpy(q.scales).double()[:, None]))
        bits += SIDE_BITS_PER_SLICE * len(q.steps) + RECORD_BITS
    return bits


def fit_rd(
    model: nn.Module,
    rate: RateModel,
    source: FrameSource,
    cfg: FitConfig,
    rd: RDConfig,
    reporter: Reporter,
    stage: str = "rd",
    table: EmbeddingTable | None = None,
    after_step: Callable[[], None] | None = None,
) -> float:
    """Train ``model`` (with ``rate`` attached, and the embeddings of ``table`` when given) for
    distortion + λ · bpp, calling ``after_step`` after every optimizer step (as :func:`fit` does;
    ``rate.state.price`` then tells whether that step priced the rate); return the final λ."""
    groups = trainable(model, table)  # the quantizers sit in the model (parametrizations) and in the rate model
    seen = {id(p) for g in groups for p in g["params"]}
    opt = make_optimizer([*groups, {"params": [p for p in rate.parameters() if id(p) not in seen], "clip": False}], cfg)
    loss_fn, lam = source.distortion(make_loss(cfg.loss), cfg.plane_shares, cfg.plane_memory), rd.lam
    reporter.start(stage, epochs_run(cfg))
    model.train()
    bits, every = torch.zeros(()), max(1, rd.rate_every)
    loss_sum, count = 0.0, 0
    for n, step in enumerate(train_steps(source, cfg, opt)):
        priced = rate.state.price = n % every == 0
        with _autocast(source.frames.device):
            embeddings, embed_bits = rate.quantize_embeddings(embeddings_for(model, step, table), step.idx, priced)
            if not priced and rate.state.mode == "noise":  # after the embeddings' draws, as the forward pass drew
                rate.perturb(model)
            out = decode_step(model, step, embeddings, source.height, source.width, source.sub == 2).float()
        loss = loss_fn(out, step.target)
        if priced:
            bits = rate.weight_bits(rd.joint_rate) + embed_bits
            loss = loss + lam * every * bits / rd.pixels
        bpp = (bits.detach() + rate.side_bits + rd.fixed_bits) / rd.pixels
        opt.zero_grad(set_to_none=True)
        loss.backward()
        bits = bits.detach()
        rate.state.noisy.clear()
        optimizer_step(opt, cfg)
        if after_step is not None:
            after_step()
        if rd.target_bpp is not None:
            lam *= math.exp(max(-1.0, min(1.0, rd.gain * (float(bpp.detach()) / rd.target_bpp - 1.0))))
            lam = min(lam, LAMBDA_MAX)
        loss_sum, count = loss_sum + float(loss.detach()) * len(step.idx), count + len(step.idx)
        if step.last:  # the PSNR of the epoch's last batch: one more pass over a frame an epoch, not a step
            mse = float(frame_mse(out.detach(), step.target))
            psnr, lr = -10.0 * math.log10(max(mse, 1e-12)), float(opt.param_groups[0]["lr"])
            loss_mean, rate_bpp = loss_sum / count, float(bpp.detach())
            reporter.advance(1, epoch=step.epoch + 1, loss=loss_mean, psnr=psnr, bpp=rate_bpp, lam=lam, lr=lr)
            loss_sum, count = 0.0, 0
    rate.state.price = True
    return lam
