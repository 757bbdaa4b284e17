"""The pipeline's seams in memory: options and their defaults, the coded-size probe against the
written file, the frozen weights of progressive sessions, and the one input door."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from nvcodec.compress import DepthCache
from nvcodec.container import write_nrv
from nvcodec.errors import NvcError
from nvcodec.fit.train import make_optimizer
from nvcodec.format import VideoMeta, pack_entry
from nvcodec.io import prepare_video, synthetic_clip, write_video
from nvcodec.models import solve_config, spec
from nvcodec.models.base import Recipe
from nvcodec.numerics import TINY, flushing
from nvcodec.pipeline import DEFAULT_BPP, EncodeOptions, effort, load_entries
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.effort import GROWTH, PRESET_SECONDS, REFERENCE_PIXELS
from nvcodec.pipeline.options import Training
from nvcodec.pipeline.progressive import FrozenWeights


def test_options_defaults_live_in_one_place() -> None:
    assert EncodeOptions().budget_bpp == DEFAULT_BPP
    sized = EncodeOptions(params=5000)  # no bpp default to collide with
    assert sized.budget_bpp is None and sized.spec.name == "hnerv"
    assert EncodeOptions(epochs=7).planned_epochs == 7
    with pytest.raises(ValueError, match="not resolved"):
        EncodeOptions(preset="fast").planned_epochs  # noqa: B018 (a preset is epochs only for a clip)
    pfnr = dataclasses.replace(EncodeOptions(model="pfnr", capacity=0.5), capacity=None, model="hnerv")
    assert pfnr.spec.name == "hnerv" and not pfnr.spec.progressive  # the spec follows a replaced model


def test_presets_plan_the_same_operations_whatever_the_clip_and_model() -> None:
    options = EncodeOptions(bpp=0.2)
    small = solve_config(options.spec, 144, 176, 30, 60_000)
    large = solve_config(options.spec, 144, 176, 30, 240_000)
    epochs = {p: EncodeOptions(preset=p).for_video(30, 144, 176, small).planned_epochs for p in PRESET_SECONDS}
    assert epochs["fast"] < epochs["medium"] < epochs["slow"]
    bigger = EncodeOptions(preset="medium").for_video(30, 144, 176, large).planned_epochs
    assert bigger < epochs["medium"]  # a larger network buys fewer epochs in the same seconds
    longer = EncodeOptions(preset="medium").for_video(120, 144, 176, small).planned_epochs
    assert longer < epochs["medium"] and 120 * longer > 30 * epochs["medium"]  # more steps, fewer visits each
    assert effort.preset_seconds("medium", 4 * REFERENCE_PIXELS) == pytest.approx(PRESET_SECONDS["medium"] * 4**GROWTH)
    assert EncodeOptions(epochs=7).for_video(1, 8, 8, small).planned_epochs == 7  # explicit epochs stay
    assert EncodeOptions(time=60.0).for_video(1, 8, 8, small).epochs is None  # planned in time instead


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"bpp": 0.1, "params": 10}, "exactly one of --bpp and --params"),
        ({"bpp": 0.0}, "must be positive"),
        ({"model": "vvc"}, "unknown model 'vvc'"),
        ({"capacity": 0.3}, "apply to progressive models"),
        ({"model": "pfnr", "prune": 0.1}, "learned mask"),
        ({"weight_bits": 17}, "2..16"),
        ({"device": "tpu"}, "use auto, cpu, cuda"),
        ({"preset": "turbo"}, "use fast, medium, slow"),
    ],
)
def test_options_are_validated_when_made(given: dict, message: str) -> None:
    with pytest.raises(NvcError, match=message):
        EncodeOptions(**given)


def test_coded_size_is_the_size_of_the_written_file(tmp_path: Path) -> None:
    model_spec = spec("hnerv")
    config = solve_config(model_spec, 32, 64, 8, 3000)
    model = model_spec.build(config)
    weights = DepthCache({n: p.detach().numpy() for n, p in model.transmitted_parameters().items()}).at(7)
    rng = np.random.default_rng(1)
    embeddings = DepthCache({k: rng.normal(size=s).astype(np.float32) for k, s in model.embedding_shapes().items()})
    cost = CodedSize(VideoMeta(8, 64, 32, Fraction(25)), model_spec, config)
    written = write_nrv(tmp_path / "c.nrv", pack_entry(cost.entry(weights, embeddings.at(5))))
    assert cost.entry_bytes(weights, embeddings.at(5)) == written == (tmp_path / "c.nrv").stat().st_size
    entry = load_entries(tmp_path / "c.nrv")[0]
    assert entry.spec is model_spec and entry.config == config
    for name, q in weights.items():
        np.testing.assert_array_equal(entry.params[name].symbols, q.symbols)


def test_frozen_weights_never_move_through_optimizer_steps() -> None:
    model = spec("pfnr").build(solve_config(spec("pfnr"), 32, 64, 8, 5_000), with_encoder=True)
    rng = np.random.default_rng(0)
    used = {n: rng.random(s) < 0.5 for n, s in model.masked_shapes().items()}
    start = {n: w.detach().clone() for n, w in model.weights.items()}
    frozen = FrozenWeights(model, used)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        model.decode(torch.arange(4), {}).square().mean().backward()
        opt.step()
        frozen.restore()
    moved = 0
    for name, w in model.weights.items():
        claimed = torch.from_numpy(used[name])
        assert torch.equal(w.detach()[claimed], start[name][claimed])
        moved += int((w.detach()[~claimed] != start[name][~claimed]).sum())
    assert moved > 0  # the free weights did train, so the guard is what held the others


def test_input_door_crops_and_scales_files_and_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip = tmp_path / "c.mkv"
    write_video(clip, synthetic_clip(6, 40, 80, seed=2), Fraction(25, 1))
    video = prepare_video(clip, start=1, frames=3, crop=(32, 64), scale=2)
    assert video.frames.shape == (3, 16, 32, 3) and video.prepared == "centre crop 32x64, downscaled x2"
    monkeypatch.setattr("nvcodec.io.sample.find_bunny", lambda: None)
    sample = prepare_video(None, frames=2, crop=(64, 128))  # on the CPU the sample defaults to x4
    assert sample.frames.shape == (2, 16, 32, 3) and sample.source == "synthetic"
    assert prepare_video(None, frames=2, crop=(64, 128), on_gpu=True).frames.shape == (2, 64, 128, 3)
    with pytest.raises(NvcError, match="--scale 0"):
        prepare_video(clip, scale=0)


def test_a_recipe_replaces_the_model_s_own_and_lr_still_overrides_it() -> None:
    common = Recipe(lr=2e-3, loss="fusion6", clip=0.5)
    released = Training(lr_scale=1.0, lr_warmup=None)
    own = EncodeOptions(model="pnerv", params=10_000, epochs=2, training=released).fit_config(2)
    assert (own.lr, own.loss, own.clip) == (5e-4, "l2", 0.1)
    cfg = EncodeOptions(model="pnerv", params=10_000, epochs=2, recipe=common, training=released).fit_config(2)
    assert (cfg.lr, cfg.loss, cfg.clip, cfg.betas, cfg.warmup) == (2e-3, "fusion6", 0.5, (0.9, 0.999), 0.1)
    assert EncodeOptions(model="pnerv", params=10_000, epochs=2, recipe=common, lr=1e-4).fit_config(2).lr == 1e-4


@pytest.mark.parametrize("optimizer", ["adam", "adan", "lion", "soap"])
def test_the_training_switches_reach_the_fit(optimizer: str) -> None:
    training = Training(optimizer=optimizer, lr_scale=3.0, lr_warmup=0.02)
    options = EncodeOptions(training=training)
    recipe = options.spec.model_cls.recipe
    cfg = options.fit_config(5)
    assert (cfg.optimizer, cfg.warmup) == (optimizer, 0.02) and cfg.lr == pytest.approx(3 * recipe.lr)
    assert EncodeOptions(lr=1e-3, training=training).fit_config(5).lr == 1e-3  # --lr is taken as given
    plain = EncodeOptions(training=Training(lr_scale=1.0, lr_warmup=None)).fit_config(5)
    assert (plain.optimizer, plain.lr, plain.warmup) == (recipe.optimizer, recipe.lr, recipe.warmup)
    param = torch.nn.Parameter(torch.ones(4, 4))
    opt = make_optimizer([{"params": [param]}], cfg)
    for _ in range(2):  # SOAP's first step only starts its preconditioner
        param.grad = torch.ones(4, 4)
        opt.step()
    assert type(opt).__name__.lower().startswith(optimizer) and not torch.equal(param, torch.ones(4, 4))


def test_every_thread_of_a_process_that_imports_the_pipeline_flushes_subnormals() -> None:
    code = (
        "import torch, nvcodec.pipeline; torch.set_num_threads(2); "
        f"x = torch.full((1 << 20,), {TINY!r}); left = int(((x * 0.5) != 0).sum()); "
        "print(torch.set_flush_denormal(True), left)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    supported, left = done.stdout.split()
    if supported != "True":
        pytest.skip("this CPU cannot flush subnormals")
    assert left == "0"  # the intra-op threads flush too, not only the thread that set the mode
    assert flushing()  # this test process imported the pipeline as well
