"""The overfitting loop: Adam (or Adan), linear warm-up then cosine decay, mini-batches of frames or of
patches.

Frames stay uint8 on the training device and are turned into padded float batches on the fly.
On CUDA the forward pass runs under bfloat16 autocast; on the CPU it runs in float32. With
``patch`` set, a step trains one patch of a mini-batch of frames (the model decodes only the
windows that patch needs, :meth:`decode_window`); an epoch visits every patch of every frame once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch.nn import functional as F

from nvcodec.fit.clock import StageClock, lr_at
from nvcodec.fit.losses import make_loss
from nvcodec.models.patches import Window, tiles
from nvcodec.models.planes import Loss, Output, OutputLoss, frame_mse, plane_loss
from nvcodec.progress import Reporter


@dataclass(frozen=True)
class FitConfig:
    """How to fit a model.

    Attributes:
        epochs: passes over all frames.
        lr: peak learning rate of Adam.
        batch_size: frames per optimizer step.
        warmup: fraction of the steps spent warming up linearly from 0.1 x lr.
        loss: ``l2`` or ``fusion6`` (0.7 L1 + 0.3 (1 - SSIM)).
        seed: seed of the frame shuffling.
        patch: side in pixels of the square patches a step trains on (0: whole frames); only
            for models that decode windows.
        max_steps: stop after this many optimizer steps (0: run every epoch); the schedule
            stays that of ``epochs`` (for timing a few steps, :mod:`nvcodec.pipeline.timing`).
        fused: Adam's fused kernel (one pass over all tensors; False: PyTorch's per-tensor loop).
        optimizer: a name of :data:`OPTIMIZERS` (``adan`` is HFE-HNeRV's recipe).
        betas: Adam's betas.
        clip: largest gradient norm of a step (0: none); a parameter group marked ``clip: False``
            (the rate model's quantizers) is left out of the norm and of the clipping.
        span: the epochs ``(first, end)`` of the schedule this fit runs (None: all of them), so
            that one schedule can continue across fits (the warm-up's move to the embedding table).
        clock: run by the wall clock (:class:`~nvcodec.fit.clock.StageClock`) instead of
            ``epochs`` and ``span``: whole frames, the steps shuffled as ever, the schedule
            following the clock's progress until its ``end``.
        plane_shares: a native fit weighs each plane's loss by its metric share over its current
            value (:func:`~nvcodec.models.planes.plane_loss`); False: by the shares alone.
        plane_memory: how much of that current value is the running mean of the steps before
            (:func:`~nvcodec.models.planes.plane_loss`'s ``memory``; 0: this step's loss alone).
    """

    epochs: int
    lr: float = 1e-3
    batch_size: int = 1
    warmup: float = 0.1
    loss: str = "l2"
    seed: int = 0
    patch: int = 0
    max_steps: int = 0
    fused: bool = True
    span: tuple[int, int] | None = None
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    clip: float = 0.0
    clock: StageClock | None = None
    plane_shares: bool = True
    plane_memory: float = 0.0


PATCH_MULTIPLE = 8
"""Patch sides are rounded to a multiple of this."""


@dataclass
class Step:
    """One optimizer step: its epoch, frame indices, target (the patch's region when training on
    patches), the patch's rows and columns (None: whole frames), whether it ends its epoch, and
    the network input :attr:`x`, made from the whole frames when first read (a step that takes
    its embeddings from a table never pads them)."""

    epoch: int
    idx: torch.Tensor
    frames: torch.Tensor
    target: torch.Tensor
    window: tuple[Window, Window] | None
    last: bool
    source: FrameSource

    @functools.cached_property
    def x(self) -> torch.Tensor:
        """The padded network input of the step's frames (:meth:`FrameSource.inputs`)."""
        return self.source.inputs(self.idx, self.frames)


TABLE_LR_SCALE = 10.0
"""The embedding table's learning rate over the model's (each row steps once an epoch)."""


class EmbeddingTable(torch.nn.Module):
    """Every frame's embeddings held as parameters (trained directly, the frame encoder set aside),
    started from given values (the encoder's output); they train at ``lr_scale`` times the
    model's learning rate."""

    def __init__(self, values: dict[str, torch.Tensor], lr_scale: float | None = None) -> None:
        super().__init__()
        self.lr_scale = TABLE_LR_SCALE if lr_scale is None else lr_scale
        # from pairs, not a dict: ParameterDict sorts a plain dict's keys, and the order is the file's
        self.values = torch.nn.ParameterDict([(n, torch.nn.Parameter(v.detach().clone())) for n, v in values.items()])

    def forward(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        """The embeddings of frames ``idx``."""
        return {n: v[idx] for n, v in self.values.items()}


def embeddings_for(model: Any, step: Step, table: EmbeddingTable | None) -> dict[str, torch.Tensor]:
    """The embeddings of ``step``'s frames: from the table when there is one, else the model's encoder."""
    return model.encode_frames(step.x) if table is None else table(step.idx)


def trainable(model: torch.nn.Module, table: EmbeddingTable | None) -> list[dict[str, Any]]:
    """What a fit trains, as optimizer parameter groups: every parameter of ``model``, or, with a
    table, its transmitted ones (the encoder left out) and the table's at its learning-rate scale."""
    if table is None:
        return [{"params": list(model.parameters())}]
    return [
        {"params": list(model.transmitted_parameters().values())},
        {"params": list(table.parameters()), "lr_scale": table.lr_scale},
    ]


def decode_step(
    model: Any, step: Step, embeddings: dict[str, torch.Tensor], height: int, width: int, planes: bool = False
) -> Output:
    """The model's output for ``step``: the whole frames cropped to ``height`` x ``width``, or the
    patch; with ``planes`` (a native 4:2:0 fit) the model's own :class:`Planes` where it makes them."""
    if step.window is not None:
        return model.decode_window(step.idx, embeddings, *step.window)
    stage = model.decode_planes(step.idx, embeddings) if planes else None
    if stage is not None:
        return stage.cropped(height, width)
    return model.decode(step.idx, embeddings)[..., :height, :width]


def epochs_run(cfg: FitConfig) -> int:
    """How many epochs a fit of ``cfg`` runs (those of its span; timed: those its clock planned)."""
    if cfg.clock is not None:
        return max(1, round(cfg.clock.epochs * (cfg.clock.end - cfg.clock.progress())))
    first, end = cfg.span or (0, cfg.epochs)
    return end - first


OPTIMIZERS = ("adam", "adan", "lion", "soap")
"""Optimizers by name: Adam (torch); Adan, Lion and SOAP (pytorch-optimizer, their authors' defaults
but the learning rate and, for SOAP, the preconditioner's update interval)."""
SOAP_EVERY = 10
"""SOAP refreshes its Shampoo preconditioner every this many steps (its authors' default)."""


def make_optimizer(groups: list[dict[str, Any]], cfg: FitConfig) -> torch.optim.Optimizer:
    """``cfg.optimizer`` at ``cfg.lr`` over parameter groups (a group's ``lr_scale`` multiplies its
    rate). Adam is fused when ``cfg.fused`` (the fused kernel exists for CPU and CUDA tensors of
    floating type; other devices take the per-tensor loop)."""
    groups = [{**g, "params": [p for p in g["params"] if p.requires_grad]} for g in groups]
    groups = [g for g in groups if g["params"]]
    if cfg.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r} (known: {', '.join(OPTIMIZERS)})")
    if cfg.optimizer != "adam":
        import pytorch_optimizer  # imported here: it takes about a second, and Adam needs none of it

        if cfg.optimizer == "soap":
            return pytorch_optimizer.SOAP(groups, lr=cfg.lr, precondition_frequency=SOAP_EVERY)
        return {"adan": pytorch_optimizer.Adan, "lion": pytorch_optimizer.Lion}[cfg.optimizer](groups, lr=cfg.lr)
    fused = cfg.fused and all(p.device.type in ("cpu", "cuda") for g in groups for p in g["params"])
    return torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas, fused=fused or None)


def optimizer_step(opt: torch.optim.Optimizer, cfg: FitConfig) -> None:
    """``opt.step()``, the gradients first clipped to norm ``cfg.clip`` when it is set."""
    if cfg.clip:
        params = [p for g in opt.param_groups if g.get("clip", True) for p in g["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, cfg.clip)
    opt.step()


def lr_factor(step: int, total: int, warmup: float) -> float:
    """Multiplier of the peak lr at ``step`` of ``total``: 0.1 -> 1 linearly, then cosine to 0."""
    warm = int(warmup * total)
    if step < warm:
        return 0.1 + 0.9 * step / warm
    progress = (step - warm) / max(total - warm, 1)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


class FrameSource:
    """Integer frames (T x H x W x 3) on a device, served as padded float batches in [0, 1]: RGB
    (uint8), or with ``sub`` > 0 the Y, U, V planes of a native fit, chroma repeated to full size
    (:func:`~nvcodec.io.raw.upsampled_planes`), ``scale`` their largest value (255, or 1023 at 10
    bits) and ``sub`` their chroma subsampling (1: 4:4:4, 2: 4:2:0).

    With ``context`` k > 0 the network input stacks frames i-k .. i+k along channels (clamped at
    the ends of the video, so the first and last frames stand in for missing neighbours).
    """

    def __init__(
        self, frames: torch.Tensor, padded: tuple[int, int], context: int = 0, scale: float = 255.0, sub: int = 0
    ) -> None:
        self.frames = frames
        self.height, self.width = int(frames.shape[1]), int(frames.shape[2])
        self.padded = padded
        self.context = context
        self.scale, self.sub = scale, sub

    def distortion(self, loss: Loss, shares: bool = True, memory: float = 0.0) -> OutputLoss:
        """``loss`` as this source's fit measures it: on the frames, or plane by plane with the
        chroma stage (:func:`~nvcodec.models.planes.plane_loss`, ``shares`` and ``memory`` its
        weighting) for a native fit."""
        return plane_loss(loss, self.sub, shares, memory) if self.sub else cast(OutputLoss, loss)

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        ph, pw = self.padded
        if (ph, pw) == (self.height, self.width):
            return x
        return F.pad(x, (0, pw - self.width, 0, ph - self.height), mode="replicate")

    def targets(self, index: torch.Tensor) -> torch.Tensor:
        """The frames ``index`` as unpadded targets N x 3 x h x w, floats in [0, 1]."""
        return self.frames[index].permute(0, 3, 1, 2).float().div_(self.scale)

    def inputs(self, index: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The padded network input of frames ``index`` whose :meth:`targets` are ``targets``
        (with ``context``: their neighbours' stacked along channels)."""
        if not self.context:
            return self._pad(targets)
        views = []
        for offset in range(-self.context, self.context + 1):
            near = (index + offset).clamp(0, len(self) - 1)
            views.append(targets if offset == 0 else self.targets(near))
        return self._pad(torch.cat(views, dim=1))

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(padded network input, unpadded target frames N x 3 x h x w), floats in [0, 1]."""
        target = self.targets(index)
        return self.inputs(index, target), target


def _autocast(device: torch.device) -> torch.autocast:
    enabled = device.type == "cuda"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


def _apply_masks(masks: dict[str, torch.Tensor] | None, params: dict[str, torch.nn.Parameter]) -> None:
    if masks:
        with torch.no_grad():
            for name, mask in masks.items():
                params[name].mul_(mask)


def _epoch_plan(n: int, cfg: FitConfig, patches: list, gen: torch.Generator) -> list[tuple[torch.Tensor, Any]]:
    """One epoch's steps as (frame indices, patch): the frames shuffled, cut into mini-batches for
    every patch, the (batch, patch) pairs shuffled too when there are several patches."""
    order = torch.randperm(n, generator=gen)
    batches = [order[i : i + cfg.batch_size] for i in range(0, n, cfg.batch_size)]
    if patches == [None]:
        return [(b, None) for b in batches]
    pairs = [(b, p) for p in patches for b in batches]
    return [pairs[int(i)] for i in torch.randperm(len(pairs), generator=gen)]


def train_steps(source: FrameSource, cfg: FitConfig, opt: torch.optim.Optimizer) -> Iterator[Step]:
    """Every optimizer step of ``cfg.epochs`` epochs, ``opt``'s learning rate set for it by the
    schedule, the frames (and patches) shuffled afresh each epoch by a generator seeded with
    ``cfg.seed`` (with a clock: until it expires, :func:`_timed_steps`)."""
    if cfg.clock is not None:
        yield from _timed_steps(source, cfg, opt, cfg.clock)
        return
    gen, n = torch.Generator().manual_seed(cfg.seed), len(source)
    patches = tiles(source.height, source.width, cfg.patch, PATCH_MULTIPLE) if cfg.patch else [None]
    per_epoch = -(-n // cfg.batch_size) * len(patches)
    first, end = cfg.span or (0, cfg.epochs)
    total, step = cfg.epochs * per_epoch, first * per_epoch
    for epoch in range(end):
        plan = _epoch_plan(n, cfg, patches, gen)
        if epoch < first:
            continue
        for k, (idx, window) in enumerate(plan):
            if cfg.max_steps and step >= first * per_epoch + cfg.max_steps:
                return
            idx = idx.to(source.frames.device)
            for group in opt.param_groups:
                group["lr"] = cfg.lr * group.get("lr_scale", 1.0) * lr_factor(step, total, cfg.warmup)
            step += 1
            frames = target = source.targets(idx)
            if window is not None:
                (r0, r1), (c0, c1) = window
                target = target[..., r0:r1, c0:c1]
            yield Step(epoch, idx, frames, target, window, k == len(plan) - 1, source)


def _timed_steps(source: FrameSource, cfg: FitConfig, opt: torch.optim.Optimizer, clock: StageClock) -> Iterator[Step]:
    """Optimizer steps on whole frames until ``clock`` expires, the learning rate set by its progress."""
    gen, n = torch.Generator().manual_seed(cfg.seed + clock.steps), len(source)
    epoch = 0
    while True:
        plan = _epoch_plan(n, cfg, [None], gen)
        for k, (idx, _) in enumerate(plan):
            progress = clock.progress()
            if clock.expired(progress):
                return
            for group in opt.param_groups:
                group["lr"] = cfg.lr * group.get("lr_scale", 1.0) * lr_at(progress, cfg.warmup)
            clock.steps += 1
            idx = idx.to(source.frames.device)
            target = source.targets(idx)
            yield Step(epoch, idx, target, target, None, k == len(plan) - 1, source)
        epoch += 1


def fit(
    model: torch.nn.Module,
    source: FrameSource,
    cfg: FitConfig,
    reporter: Reporter,
    stage: str = "fit",
    masks: dict[str, torch.Tensor] | None = None,
    after_step: Callable[[], None] | None = None,
    table: EmbeddingTable | None = None,
) -> None:
    """Train ``model`` on ``source`` (with the embeddings of ``table`` when given); keep masked
    weights at zero if ``masks`` is given, and call ``after_step`` after every optimizer step (PFNR
    restores its frozen weights there). Each epoch's mean loss and PSNR go to the reporter as
    ``stage``'s progress."""
    opt = make_optimizer(trainable(model, table), cfg)
    loss_fn = source.distortion(make_loss(cfg.loss), cfg.plane_shares, cfg.plane_memory)
    params = dict(model.named_parameters())
    reporter.start(stage, epochs_run(cfg))
    model.train()
    loss_sum, mse_sum, count = 0.0, 0.0, 0
    for step in train_steps(source, cfg, opt):
        idx, target = step.idx, step.target
        with _autocast(source.frames.device):
            embeddings = embeddings_for(model, step, table)
            out = decode_step(model, step, embeddings, source.height, source.width, source.sub == 2).float()
        loss = loss_fn(out, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        optimizer_step(opt, cfg)
        _apply_masks(masks, params)
        if after_step is not None:
            after_step()
        loss_sum += float(loss.detach()) * len(idx)
        mse_sum += float(frame_mse(out.detach(), target)) * len(idx)
        count += len(idx)
        if step.last:
            psnr = -10.0 * math.log10(max(mse_sum / count, 1e-12))
            lr = float(opt.param_groups[0]["lr"])
            reporter.advance(1, epoch=step.epoch + 1, loss=loss_sum / count, psnr=psnr, lr=lr)
            loss_sum, mse_sum, count = 0.0, 0.0, 0


@torch.no_grad()
def export_embeddings(
    model: torch.nn.Module, source: FrameSource, table: EmbeddingTable | None = None, batch_size: int = 8
) -> dict[str, torch.Tensor]:
    """The per-frame embeddings of every frame (the table's, when given), on the CPU in float32."""
    if table is not None:
        return {n: v.detach().float().cpu() for n, v in table.values.items()}
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    for i in range(0, len(source), batch_size):
        idx = torch.arange(i, min(i + batch_size, len(source)), device=source.frames.device)
        x, _ = source.batch(idx)
        for name, value in model.encode_frames(x).items():
            parts.setdefault(name, []).append(value.float().cpu())
    return {name: torch.cat(values) for name, values in parts.items()}
