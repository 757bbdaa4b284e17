"""How an encode trains beyond its model's recipe: the stages' schedule, the rate term's settings
and the sizing rules, in one frozen object the encode options carry (:class:`Training`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nvcodec.fit.train import TABLE_LR_SCALE


@dataclass(frozen=True)
class Training:
    """How an encode trains, beyond what the model's recipe sets: every tunable of the stages'
    schedule in one frozen object that the encode options carry (benchmarks switch a field with
    :func:`dataclasses.replace`; nothing reads a module global). The defaults are the measured ones.

    Attributes:
        warmup_share: share of the epochs in the distortion-only warm-up; None: the model's
            recipe's (:attr:`~nvcodec.models.Recipe.warm_share`; the options resolve it when made).
        exact_share: share of the epochs in the ``exact`` stage (the file's integers); the
            ``rd`` stage (learned steps, noise, λ steered to the budget) takes the rest.
        exact_lr: the ``exact`` stage's learning rate, as a fraction of the model's.
        lambda_start: λ when the ``rd`` stage starts (then steered to the budget unless fixed).
        rate_every: the rate term (weights and embeddings) is priced every this many steps,
            weighted by it (1: every step). At equal epochs every 4th step gave the PSNR of every
            step (Bunny 80x160 at 0.05 bpp and the synthetic clip at 0.1 bpp, 30 epochs, hinerv;
            the embeddings too: 160x320, 30 epochs, hnerv); every 8th against every 4th at 160x320:
            hnerv 30 epochs, Bunny 0.05 bpp 24.30 / 24.29 dB, the synthetic clip 0.1 bpp
            25.99 / 26.01 dB; hinerv 15 epochs, synthetic 0.1 bpp 23.88 / 23.72 dB.
        joint_rate: the weights' rate priced in one pass over all of them (False: tensor by
            tensor, the same bits up to float rounding; the speed benchmark's "before").
        encoder_share: share of the warm-up's epochs that train through the frame encoder; then
            every frame's embedding becomes a parameter of its own
            (:class:`~nvcodec.fit.train.EmbeddingTable`, started from the encoder's output) and the
            encoder no longer runs. None: the encoder trains through every stage. Measured with
            ``--time 90s`` (hnerv, Bunny 160x320 at 0.05 bpp / the synthetic clip at 0.1): 23.21 /
            21.47 dB with the encoder throughout, 23.97 / 24.90 dB at 0.25 (23.93 / 24.52 at 0.1),
            with the table's learning rate 10x (at 1x, the schedule restarted at the move: 23.30 /
            19.60 at 0.1).
        table_lr_scale: the embedding table's learning rate, as a multiple of the model's.
        fused_adam: Adam's fused kernel (:attr:`~nvcodec.fit.FitConfig.fused`; False: the
            per-tensor loop).
        optimizer: the optimizer of every stage (:data:`~nvcodec.fit.train.OPTIMIZERS`); None:
            the model's recipe's. At equal time (hnerv, synthetic 144x176 at 0.2 bpp, ``--time
            40s``, the recipe's rate) Adam gave 25.33 dB, Lion (0.3x the rate) 25.47, Adan 23.79,
            SOAP 23.61 (its preconditioner costs steps); two frames a step 23.42.
        lr_scale: the peak learning rate as a multiple of the model's recipe's (``--lr`` sets it
            outright, unscaled).
        lr_warmup: share of each schedule's steps that ramp the learning rate up linearly before
            its cosine decay; None: the model's recipe's.
            Measured together (hnerv, ``--time``, one run each, PSNR at about 0.1 bpp; 40 s on the
            144x176 clips, 60 s on Bunny 160x320): x1 (recipe warm-up 0.1) qcif / pan / synthetic
            26.63 / 22.56 / 23.82 dB; x2 28.19 / 23.37 / 23.76; x4 28.60 / 23.92 / 25.01; x8 29.20
            / 24.20 / 24.16; x4 with warm-up 0.3 28.37 / 23.71 / 25.29; x8 with 0.3 29.33 / 24.41 /
            25.76. On Bunny, x2 24.88, x4 24.78, x4 with 0.3 26.13 and 25.82 (two runs), x8 with
            0.3 24.17 and 25.11: the larger network wants the gentler rate, so x4 with 0.3.
        size_steps: the fewest optimizer steps the planned time (a preset's or ``--time``'s, on
            the reference machine: :mod:`~nvcodec.pipeline.effort`) must buy the network of a CPU
            encode: when the budget's network would get fewer, the largest network that gets them
            is fitted instead, still aiming at the asked budget (less rate pressure), and the file
            takes steps finer than the fit's own only while they measure better (a larger budget
            never buys a network that cannot train in the time, nor steps that lose quality;
            :func:`~nvcodec.pipeline.timefit.fit_in_time` when none gets them). None: sized by the
            budget alone. 3000: on a 30-frame 144x176 clip at ``--time 60s`` the network for 0.375
            bpp (about 3,200 steps) gave 0.85 dB more than the one for 0.19 bpp, the one for 0.8 bpp
            (about 2,000) 0.6 dB less (issue 28's measurements).
        starved_share: when no network gets ``size_steps``, the budget's network is still
            replaced by the largest that gets this share of the most steps any network gets (the
            smallest networks: a step's fixed cost caps them); None: the budget's own. 0.5: at 30 s
            on a 2-core EPYC, two real hand-held clips lost 1-2 dB with each doubling of the budget
            past the network getting half those steps (``docs/2026-12-06-motion.md``).
        plan_tolerance: a timed encode's stages plan their steps from the expected pace and keep
            the plan while the measured pace stays within this share of it
            (:class:`~nvcodec.fit.clock.StageClock`): on a steady machine the same options give
            the same steps, learning rates and bytes, and the budgets the time binds to one
            network train it alike. None: the learning rate follows the wall clock step by step.
        land_before_exact: between the ``rd`` and ``exact`` stages, every step is scaled so that
            the rounded file lands at :data:`~nvcodec.ratecontrol.LANDING_SHARE` of the budget
            (on real coded sizes), and the ``exact`` stage trains on those integers; False: the
            ``exact`` stage starts from the ``rd`` stage's steps, whose rounded file fell 5-10 %
            below the noise's estimate on the pan, its λ controller then chased the target, and
            the file often landed outside its window (where rounding every value afresh cost the
            canvas 2-6 dB).
        plan_slack: a planned stage is planned again when, at the pace it measures, it would run
            past its seconds by more than this share of the seconds of the stages after it, even
            within ``plan_tolerance`` (None: the tolerance alone). With the tolerance alone the
            ``rd`` stage (0.8 of the fit) could overrun by 15 % of its seconds, more than the whole
            ``exact`` stage (0.1): on the pan (canvas, 60 s) the ``exact`` stage ran 1 epoch in 6 of
            11 encodes and 5 to 12 in the others.
        plane_shares: a native (``--yuv``) fit weighs each plane's loss by its 6:1:1 share over its
            current value, as the metric's gradient does (:func:`~nvcodec.models.planes.plane_loss`);
            False: by the shares alone.
        plane_memory: the current value a plane's weight divides by is the running mean of its
            loss over the stage's steps, each step weighing 1 - this (0: the step's own loss).
            0.99: on the pan at 60 s, where ``auto`` codes a canvas, the per-step weights gave
            29.82 / 32.80 / 40.92 dB YUV at 0.1 / 0.2 / 0.4 bpp, the running mean 32.73 / 35.45
            / 42.66 (one batch's chroma loss far below its typical value made its weight leap).
        chroma_stage: a native fit of a 4:2:0 source uses the model's own 4:2:0 output stage
            where it has one (``capabilities.chroma``; hnerv: the last block at half size, six
            channels); False: the frame-size output, its chroma averaged (every model).
    """

    warmup_share: float | None = None
    exact_share: float = 0.1
    exact_lr: float = 0.1
    lambda_start: float = 1e-3
    rate_every: int = 8
    joint_rate: bool = True
    encoder_share: float | None = 0.25
    table_lr_scale: float = TABLE_LR_SCALE
    fused_adam: bool = True
    optimizer: str | None = None
    lr_scale: float = 4.0
    lr_warmup: float | None = 0.3
    size_steps: int | None = 3000
    starved_share: float | None = 0.5
    plan_tolerance: float | None = 0.15
    plan_slack: float | None = 0.5
    land_before_exact: bool = True
    plane_shares: bool = True
    plane_memory: float = 0.99
    chroma_stage: bool = True

    def stage_epochs(self, epochs: int) -> tuple[int, int, int]:
        """Epochs of the warm-up, ``rd`` and ``exact`` stages (each at least 1)."""
        if self.warmup_share is None:
            raise ValueError("the warm-up share is not resolved yet (EncodeOptions resolves it from the recipe)")
        warm = max(1, round(self.warmup_share * epochs))
        exact = max(1, round(self.exact_share * epochs))
        return warm, max(1, epochs - warm - exact), exact

    def uses_table(self, model: Any) -> bool:
        """Whether ``model``'s warm-up moves to an embedding table (it has per-frame embeddings
        and :attr:`encoder_share` is set)."""
        return self.encoder_share is not None and bool(model.embedding_shapes())

    def encoder_epochs(self, warm: int, model: Any) -> int:
        """Epochs of ``model``'s warm-up that train through the frame encoder (at least one: a
        table started from an untrained encoder's output fits far worse)."""
        if self.encoder_share is None or not bool(model.embedding_shapes()):
            return warm
        return min(warm, max(1, round(self.encoder_share * warm)))
