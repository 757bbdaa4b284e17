"""The overfitting loop: Adam, linear warm-up then cosine decay, mini-batches of frames.

Frames stay uint8 on the training device and are turned into padded float batches on the fly.
On CUDA the forward pass runs under bfloat16 autocast; on the CPU it runs in float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from nvcodec.fit.losses import make_loss
from nvcodec.progress import Reporter

PRESET_EPOCHS = {"fast": 30, "medium": 100, "slow": 300}


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
    """

    epochs: int
    lr: float = 1e-3
    batch_size: int = 1
    warmup: float = 0.1
    loss: str = "l2"
    seed: int = 0


def lr_factor(step: int, total: int, warmup: float) -> float:
    """Multiplier of the peak lr at ``step`` of ``total``: 0.1 -> 1 linearly, then cosine to 0."""
    warm = int(warmup * total)
    if step < warm:
        return 0.1 + 0.9 * step / warm
    progress = (step - warm) / max(total - warm, 1)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


class FrameSource:
    """uint8 frames (T x H x W x 3) on a device, served as padded float batches in [0, 1].

    With ``context`` k > 0 the network input stacks frames i-k .. i+k along channels (clamped at
    the ends of the video, so the first and last frames stand in for missing neighbours).
    """

    def __init__(self, frames: torch.Tensor, padded: tuple[int, int], context: int = 0) -> None:
        self.frames = frames
        self.height, self.width = int(frames.shape[1]), int(frames.shape[2])
        self.padded = padded
        self.context = context

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        ph, pw = self.padded
        if (ph, pw) == (self.height, self.width):
            return x
        return F.pad(x, (0, pw - self.width, 0, ph - self.height), mode="replicate")

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(padded network input, unpadded target frames N x 3 x h x w), floats in [0, 1]."""
        target = self.frames[index].permute(0, 3, 1, 2).float().div_(255.0)
        if not self.context:
            return self._pad(target), target
        views = []
        for offset in range(-self.context, self.context + 1):
            near = (index + offset).clamp(0, len(self) - 1)
            views.append(target if offset == 0 else self.frames[near].permute(0, 3, 1, 2).float().div_(255.0))
        return self._pad(torch.cat(views, dim=1)), target


def _autocast(device: torch.device) -> torch.autocast:
    enabled = device.type == "cuda"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


def _apply_masks(masks: dict[str, torch.Tensor] | None, params: dict[str, torch.nn.Parameter]) -> None:
    if masks:
        with torch.no_grad():
            for name, mask in masks.items():
                params[name].mul_(mask)


def train_steps(
    source: FrameSource, cfg: FitConfig, opt: torch.optim.Optimizer
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor, bool]]:
    """Every optimizer step of ``cfg.epochs`` epochs, ``opt``'s learning rate set for it by the
    schedule: (epoch, frame indices, inputs, targets, whether the step ends its epoch), the
    frames shuffled afresh each epoch by a generator seeded with ``cfg.seed``."""
    gen, n = torch.Generator().manual_seed(cfg.seed), len(source)
    total, step = cfg.epochs * -(-n // cfg.batch_size), 0
    for epoch in range(cfg.epochs):
        order = torch.randperm(n, generator=gen).to(source.frames.device)
        for i in range(0, n, cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            for group in opt.param_groups:
                group["lr"] = cfg.lr * lr_factor(step, total, cfg.warmup)
            step += 1
            yield epoch, idx, *source.batch(idx), i + cfg.batch_size >= n


def fit(
    model: torch.nn.Module,
    source: FrameSource,
    cfg: FitConfig,
    reporter: Reporter,
    stage: str = "fit",
    masks: dict[str, torch.Tensor] | None = None,
    after_step: Callable[[], None] | None = None,
) -> None:
    """Train ``model`` on ``source``; keep masked weights at zero if ``masks`` is given, and call
    ``after_step`` after every optimizer step (PFNR restores its frozen weights there). Each epoch's
    mean loss and PSNR go to the reporter as ``stage``'s progress."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.999))
    loss_fn, n = make_loss(cfg.loss), len(source)
    params = dict(model.named_parameters())
    reporter.start(stage, cfg.epochs)
    model.train()
    loss_sum, mse_sum = 0.0, 0.0
    for epoch, idx, x, target, last in train_steps(source, cfg, opt):
        with _autocast(source.frames.device):
            out = model(idx, x)[..., : source.height, : source.width].float()
        loss = loss_fn(out, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _apply_masks(masks, params)
        if after_step is not None:
            after_step()
        loss_sum += float(loss.detach()) * len(idx)
        mse_sum += float(F.mse_loss(out.detach(), target)) * len(idx)
        if last:
            psnr = -10.0 * math.log10(max(mse_sum / n, 1e-12))
            reporter.advance(1, epoch=epoch + 1, loss=loss_sum / n, psnr=psnr)
            loss_sum, mse_sum = 0.0, 0.0


@torch.no_grad()
def export_embeddings(model: torch.nn.Module, source: FrameSource, batch_size: int = 8) -> dict[str, torch.Tensor]:
    """The per-frame embeddings of every frame, on the CPU in float32."""
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    for i in range(0, len(source), batch_size):
        idx = torch.arange(i, min(i + batch_size, len(source)), device=source.frames.device)
        x, _ = source.batch(idx)
        for name, value in model.encode_frames(x).items():
            parts.setdefault(name, []).append(value.float().cpu())
    return {name: torch.cat(values) for name, values in parts.items()}
