"""The pipeline's seams in memory: options and their defaults, the coded-size probe against the
written file, the frozen weights of progressive sessions, and the one input door."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from nvcodec.compress import DepthCache
from nvcodec.container import write_nrv
from nvcodec.errors import NvcError
from nvcodec.format import VideoMeta, pack_entry
from nvcodec.io import prepare_video, synthetic_clip, write_video
from nvcodec.models import solve_config, spec
from nvcodec.models.base import Recipe
from nvcodec.pipeline import DEFAULT_BPP, EncodeOptions, load_entries
from nvcodec.pipeline.coded_size import CodedSize
from nvcodec.pipeline.progressive import FrozenWeights


def test_options_defaults_live_in_one_place() -> None:
    assert EncodeOptions().budget_bpp == DEFAULT_BPP
    sized = EncodeOptions(params=5000)  # no bpp default to collide with
    assert sized.budget_bpp is None and sized.spec.name == "hnerv"
    assert EncodeOptions(preset="fast").planned_epochs == 30 and EncodeOptions(epochs=7).planned_epochs == 7
    pfnr = dataclasses.replace(EncodeOptions(model="pfnr", capacity=0.5), capacity=None, model="hnerv")
    assert pfnr.spec.name == "hnerv" and not pfnr.spec.progressive  # the spec follows a replaced model


def test_presets_give_short_clips_as_many_steps_as_a_132_frame_clip() -> None:
    fast = EncodeOptions(preset="fast")
    assert [fast.for_video(n).planned_epochs for n in (132, 1000, 33, 1)] == [30, 30, 120, 3960]
    assert EncodeOptions(preset="fast", batch_size=2).for_video(33).planned_epochs == -(-30 * 66 // 17)
    assert EncodeOptions(epochs=7).for_video(1).planned_epochs == 7  # explicit epochs stay
    assert EncodeOptions(time=60.0).for_video(1).epochs is None  # planned in time instead


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
    own = EncodeOptions(model="pnerv", params=10_000, epochs=2).fit_config(2)
    assert (own.lr, own.loss, own.clip) == (5e-4, "l2", 0.1)
    cfg = EncodeOptions(model="pnerv", params=10_000, epochs=2, recipe=common).fit_config(2)
    assert (cfg.lr, cfg.loss, cfg.clip, cfg.betas, cfg.warmup) == (2e-3, "fusion6", 0.5, (0.9, 0.999), 0.1)
    assert EncodeOptions(model="pnerv", params=10_000, epochs=2, recipe=common, lr=1e-4).fit_config(2).lr == 1e-4
