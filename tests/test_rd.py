"""The rate–distortion fit: the per-slice Laplace coder, the learned quantizer's exact integers, the
rate estimate against the bytes written, λ ordering, and the budget window."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from nvcodec.bitio import ByteReader, ByteWriter, ReadError
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
from nvcodec.compress.quantize import Coding, bf16_bits
from nvcodec.entropy.laplace import decode_laplace, encode_laplace
from nvcodec.entropy.laplace import laplace_bits as coder_bits
from nvcodec.fit import FitConfig, FrameSource, export_embeddings
from nvcodec.fit.rd import RateModel, RDConfig, estimated_bits, fit_rd
from nvcodec.format import read_qtensor, write_qtensor
from nvcodec.format.tensors import TAG_PREDICTED
from nvcodec.io import Video, read_video, synthetic_clip
from nvcodec.metrics import mean_psnr
from nvcodec.models import names, solve_config, spec
from nvcodec.pipeline import EncodeOptions, append_video, decode_frames, encode_video, load_archive, load_entries
from nvcodec.progress import Reporter


def test_laplace_slices_round_trip_and_cost_what_they_estimate() -> None:
    rng = np.random.default_rng(0)
    scales = np.array([0.05, 0.7, 3.0, 12.0], dtype=np.float32)
    symbols = np.stack([np.round(rng.laplace(0, s, 5000)) for s in scales]).astype(np.int64)
    data = encode_laplace(symbols, scales)
    r = ByteReader(data)
    np.testing.assert_array_equal(decode_laplace(r, symbols.shape, scales), symbols)
    assert r.remaining == 0
    estimate = coder_bits(symbols, scales)
    assert abs(8 * len(data) - estimate) < 0.02 * estimate + 64


def test_torch_and_coder_rates_agree() -> None:
    rng = np.random.default_rng(1)
    symbols = np.round(rng.laplace(0, 2.0, (3, 400))).astype(np.int64)
    scales = np.array([1.5, 2.0, 3.0], dtype=np.float32)
    torch_bits = float(laplace_bits(torch.from_numpy(symbols).double(), torch.from_numpy(scales).double()[:, None]))
    assert torch_bits == pytest.approx(coder_bits(symbols, scales), rel=1e-9)


@pytest.mark.parametrize("shape,axis", [((6, 4, 3, 3), 0), ((5,), None), ((2, 8, 3, 4), 1)])
def test_learned_tensor_record_round_trip_is_exact(shape: tuple, axis: int | None) -> None:
    torch.manual_seed(0)
    x = torch.randn(shape)
    quantizer = LearnedQuantizer(x, axis)
    q = quantizer.export(x)
    w = ByteWriter()
    write_qtensor(w, q)
    back = read_qtensor(ByteReader(w.getvalue()), shape)
    np.testing.assert_array_equal(back.symbols, q.symbols)
    np.testing.assert_array_equal(back.dequantize(), q.dequantize())
    # the exact stage trains on these integers: with the steps frozen at their stored values, the
    # quantizer's straight-through rounding gives exactly the file's symbols
    with torch.no_grad():
        quantizer.log_step.copy_(torch.log(torch.from_numpy(q.steps)))
    trained = quantizer.symbols(x, "round").detach().numpy()
    np.testing.assert_array_equal(trained, as_slices(torch.from_numpy(q.symbols), axis).numpy())
    assert slice_axis(shape, embedding=axis == 1) == axis


def _slow_embedding() -> torch.Tensor:
    """Frames x channels x 2 x 3 values that drift slowly from frame to frame."""
    torch.manual_seed(0)
    return torch.cumsum(0.05 * torch.randn(40, 4, 2, 3), dim=0) + torch.randn(1, 4, 2, 3)


def test_predicted_record_round_trip_is_exact_and_cheaper_for_slow_frames() -> None:
    x = _slow_embedding()
    quantizer = LearnedQuantizer(x, 1)
    plain, predicted = quantizer.export(x), quantizer.export(x, predicted=True)
    np.testing.assert_array_equal(plain.symbols, predicted.symbols)
    assert predicted.kind is Coding.PREDICTED and plain.kind is Coding.LEARNED
    records = []
    for q in (plain, predicted):
        w = ByteWriter()
        write_qtensor(w, q)
        back = read_qtensor(ByteReader(w.getvalue()), tuple(x.shape))
        np.testing.assert_array_equal(back.symbols, q.symbols)
        assert back.kind is q.kind and back.bits == q.bits
        records.append(len(w.getvalue()))
    assert records[1] < 0.7 * records[0]
    assert abs(8 * records[1] - estimated_bits([predicted])) <= 0.05 * 8 * records[1] + 64


def test_the_fit_prices_slow_embeddings_as_residuals() -> None:
    x = _slow_embedding()
    y = as_slices(x / 0.02, 1)
    static, residual = frame_bits(y, x.shape[0], noise=False)
    assert float(residual) < 0.7 * float(static)


@pytest.mark.parametrize(
    "axis,residual,error",
    [(0, 1, "first axis apart"), (1, 70000, "residual outside"), (1, 20000, "symbol outside")],
)
def test_the_reader_bounds_predicted_records(axis: int, residual: int, error: str) -> None:
    symbols = np.full((3, 2), residual, dtype=np.int64)  # the coded residuals
    ones = np.ones(symbols.shape[axis], np.float32)  # steps and scales
    w = ByteWriter()
    w.u8(TAG_PREDICTED)
    w.u8(axis)
    w.raw(bf16_bits(ones).astype("<u2").tobytes() * 2)
    w.raw(encode_laplace(np.moveaxis(symbols, axis, 0).reshape(symbols.shape[axis], -1), ones))
    with pytest.raises(ReadError, match=error):
        read_qtensor(ByteReader(w.getvalue()), symbols.shape)


def _encode(cli, clip: Path, out: Path, *args: object) -> dict:
    code, stdout, err = cli("encode", clip, "-o", out, "--json", "-q", *args)
    assert code == 0, err
    return json.loads(stdout)


def test_rate_estimate_is_within_5_percent_of_the_file(cli, clip_dir: Path, tmp_path: Path) -> None:
    report = _encode(cli, clip_dir / "lossless.mkv", tmp_path / "e.nrv", "--rd", "--bpp", "0.5", "--epochs", "3")
    assert 0.85 * 0.5 <= report["bpp"] <= 0.5
    assert report["bytes"] == (tmp_path / "e.nrv").stat().st_size
    assert abs(report["rate_estimate_bytes"] - report["bytes"]) <= 0.05 * report["bytes"]
    entry = load_entries(tmp_path / "e.nrv")[0]
    assert all(q.learned and q.scales is not None for q in entry.params.values())


def test_a_larger_lambda_gives_a_smaller_file(cli, clip_dir: Path, tmp_path: Path) -> None:
    sizes = []
    for lam in ("0.0001", "0.01"):
        args = ["--rd", "--params", "6000", "--lambda", lam, "--epochs", "4"]
        sizes.append(_encode(cli, clip_dir / "tiny.mkv", tmp_path / f"l{lam}.nrv", *args)["bytes"])
    assert sizes[1] < sizes[0]


def test_rd_options_are_checked(cli, clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.nrv"
    for args in (
        ["--rd", "--lambda", "-1"],
        ["--no-rd", "--lambda", "0.1"],
        ["--prune", "0.2", "--lambda", "0.1"],  # --prune alone means the post-training path
        ["--rd", "--prune", "0.2"],
        ["--model", "pfnr", "--rd", "--weight-bits", "6"],
    ):
        code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", out, "--epochs", "1", "-q", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, (args, err)


@pytest.mark.parametrize("model", [m for m in names() if not spec(m).progressive])
def test_every_one_video_model_takes_a_rate_distortion_fit(model: str, clip_dir: Path, tmp_path: Path) -> None:
    video = read_video(clip_dir / "tiny.mkv")
    options = EncodeOptions(model=model, bpp=3.0, epochs=2, device="cpu", rd=True)
    report = encode_video(video, tmp_path / "m.nrv", options)
    assert 0.85 * 3.0 <= report.bpp <= 3.0
    _, frames = decode_frames(tmp_path / "m.nrv", device="cpu")
    np.testing.assert_array_equal(frames, report.reconstruction)
    _, part = decode_frames(tmp_path / "m.nrv", (3, 6), device="cpu")
    np.testing.assert_array_equal(part, report.reconstruction[3:6])


def test_progressive_videos_take_a_rate_distortion_fit(clip_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.nrv"
    options = EncodeOptions(model="pfnr", bpp=2.0, epochs=4, device="cpu", rd=True)
    video = read_video(clip_dir / "tiny.mkv")
    first = encode_video(video, path, options)
    reversed_video = Video(np.ascontiguousarray(video.frames[::-1]), video.fps, "reversed")
    second = append_video(path, reversed_video, options)
    archive = load_archive(path)
    for index, report in enumerate((first, second)):
        session = archive.sessions[index]
        assert all(q.kind is Coding.LEARNED for q in [*session.values.values(), session.head])
        assert 0.85 * 2.0 <= report.bpp <= 2.0
        _, frames = decode_frames(path, device="cpu", video=index)
        np.testing.assert_array_equal(frames, report.reconstruction)


def test_a_tensor_of_one_value_codes_to_nothing() -> None:
    symbols = np.full((2, 7), 3, dtype=np.int64)
    scales = np.array([1.0, 1.0], dtype=np.float32)
    data = encode_laplace(symbols, scales)
    np.testing.assert_array_equal(decode_laplace(ByteReader(data), (2, 7), scales), symbols)
    assert len(data) <= 3


def test_the_rate_distortion_fit_is_the_default_for_one_video_models() -> None:
    assert EncodeOptions(model="hnerv").uses_rd and EncodeOptions(model="nerv", bpp=0.1).uses_rd
    assert not EncodeOptions(model="hnerv", rd=False).uses_rd
    for post_training in ({"prune": 0.1}, {"weight_bits": 6}, {"embed_bits": 5}):
        assert not EncodeOptions(model="hnerv", **post_training).uses_rd
    assert not EncodeOptions(model="pfnr").uses_rd


@pytest.mark.parametrize("budget", [1.0, 2.0, 4.0])
def test_the_default_encode_lands_in_the_budget_window(budget: float, clip_dir: Path, tmp_path: Path) -> None:
    video = read_video(clip_dir / "tiny.mkv")
    report = encode_video(video, tmp_path / "w.nrv", EncodeOptions(bpp=budget, epochs=2, device="cpu"))
    assert 0.85 * budget <= report.bpp <= budget
    assert report.bytes == (tmp_path / "w.nrv").stat().st_size


def test_the_same_seed_gives_the_same_bytes(clip_dir: Path, tmp_path: Path) -> None:
    video = read_video(clip_dir / "tiny.mkv")
    files = []
    for name in ("a.nrv", "b.nrv"):
        encode_video(video, tmp_path / name, EncodeOptions(bpp=2.0, epochs=2, device="cpu", seed=3))
        files.append((tmp_path / name).read_bytes())
    assert files[0] == files[1]


def test_a_small_budget_gets_fewer_embedding_channels(clip_dir: Path, tmp_path: Path) -> None:
    video = read_video(clip_dir / "tiny.mkv")  # 8x32x64: a 2x4-cell grid, 16 channels = 128 values a frame
    rich, lean = tmp_path / "rich.nrv", tmp_path / "lean.nrv"
    encode_video(video, rich, EncodeOptions(bpp=2.0, epochs=2, device="cpu"))
    report = encode_video(video, lean, EncodeOptions(bpp=0.6, epochs=2, device="cpu"))
    assert load_entries(rich)[0].config.embed_dim == 16
    assert load_entries(lean)[0].config.embed_dim < 16 and 0.85 * 0.6 <= report.bpp <= 0.6
    assert mean_psnr(video.frames, decode_frames(lean, device="cpu")[1]) == pytest.approx(report.psnr, abs=1e-9)


def test_a_small_budget_on_a_fine_grid_moves_to_a_coarser_grid(tmp_path: Path) -> None:
    video = Video(synthetic_clip(8, 72, 128, seed=5), Fraction(25, 1), "fine-grid")  # preferred: 9x16 cells
    out = tmp_path / "coarse.nrv"
    report = encode_video(video, out, EncodeOptions(bpp=0.5, epochs=2, device="cpu"))
    config = load_entries(out)[0].config
    assert config.grid[0] * config.grid[1] < 9 * 16 and (config.height, config.width) != (72, 128)
    assert 0.85 * 0.5 <= report.bpp <= 0.5
    assert mean_psnr(video.frames, decode_frames(out, device="cpu")[1]) == pytest.approx(report.psnr, abs=1e-9)


@pytest.mark.parametrize(("every", "priced"), [(1, [0, 1, 2, 3, 4, 5, 6, 7]), (4, [0, 4]), (3, [0, 3, 6])])
def test_the_rate_term_is_priced_every_few_steps(every: int, priced: list[int]) -> None:
    model_spec = spec("hnerv")
    model = model_spec.build(solve_config(model_spec, 32, 64, 8, 3000), with_encoder=True)
    source = FrameSource(torch.from_numpy(synthetic_clip(8, 32, 64, seed=2)), (32, 64))
    rate = RateModel(model, export_embeddings(model, source))
    rate.attach(model)
    seen: list[bool] = []
    config = RDConfig(8 * 32 * 64, rate_every=every)
    fit_rd(
        model,
        rate,
        source,
        FitConfig(epochs=2, max_steps=8),
        config,
        Reporter(),
        after_step=lambda: seen.append(rate.state.price),
    )
    assert [n for n, p in enumerate(seen) if p] == priced and len(seen) == 8
    assert rate.state.price  # every read after the fit prices again


@pytest.mark.parametrize(("shape", "axis"), [((21, 16, 3, 3), 0), ((21,), None)])
def test_a_perturbed_parameter_is_the_noisy_round_trip_of_its_symbols(shape: tuple[int, ...], axis: int | None) -> None:
    x = torch.randn(shape)
    q = LearnedQuantizer(x, axis)
    torch.manual_seed(3)
    through_symbols = q.restore(q.symbols(x, "noise"), x)
    torch.manual_seed(3)
    assert torch.allclose(q.perturbed(x), through_symbols, atol=1e-6)  # same draws, fewer operations


def test_the_joint_rate_is_the_sum_of_the_tensors_rates_with_the_same_gradients() -> None:
    torch.manual_seed(4)
    shapes = [(21, 900), (1, 21), (5, 1), (3, 72), (1, 3), (4, 10)]
    ys = [(torch.randn(s) * torch.rand(s[0], 1) * 6).requires_grad_() for s in shapes]
    ys[-1].data.zero_()  # an all-zero tensor: its scale sits at the floor
    apart, joint = sum(ml_bits(y) for y in ys), ml_bits_joint(ys)
    assert torch.allclose(joint, apart, rtol=1e-5)
    for a, b in zip(torch.autograd.grad(apart, ys), torch.autograd.grad(joint, ys), strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_a_model_s_weights_cost_the_same_priced_jointly_or_apart() -> None:
    model_spec = spec("hnerv")
    model = model_spec.build(solve_config(model_spec, 32, 64, 8, 3000), with_encoder=True)
    source = FrameSource(torch.from_numpy(synthetic_clip(8, 32, 64, seed=2)), (32, 64))
    rate = RateModel(model, export_embeddings(model, source))
    rate.attach(model)
    for name in rate.names:  # read every parameter once, recording its symbols
        owner, attr = name.rsplit(".", 1)
        getattr(model.get_submodule(owner), attr)
    assert len(rate.state.symbols) == len(rate.names) > 2
    assert torch.allclose(rate.weight_bits(joint=True), rate.weight_bits(joint=False), rtol=1e-5)


def test_the_exact_stage_trains_on_the_steps_the_lander_chose() -> None:
    from torch.nn.utils import parametrize

    from nvcodec.compress.quantize import to_bf16_up
    from nvcodec.pipeline.rd import rd_stages

    model_spec = spec("hnerv")
    model = model_spec.build(solve_config(model_spec, 32, 64, 8, 3000), with_encoder=True)
    source = FrameSource(torch.from_numpy(synthetic_clip(8, 32, 64, seed=2)), (32, 64))
    rate = RateModel(model, export_embeddings(model, source))
    seen: list[np.ndarray] = []

    def land(r: RateModel, table: object) -> float:
        assert r is rate and not parametrize.is_parametrized(model)  # sizes are taken of the raw values
        seen.append(np.array([float(q.step().detach()[0, 0]) for q in [*r.weights, *r.embeddings]], np.float32))
        return 1.5

    options = EncodeOptions(model="hnerv", bpp=0.5, epochs=4)
    rd_stages(model, rate, source, options, RDConfig(8 * 32 * 64), Reporter(), (1, 1), land=land)
    after = np.array([float(q.step().detach()[0, 0]) for q in [*rate.weights, *rate.embeddings]], np.float32)
    assert len(seen) == 1 and np.allclose(after, to_bf16_up(1.5 * seen[0]), rtol=1e-6)
    assert not parametrize.is_parametrized(model)


def test_noise_drawn_at_once_equals_each_tensor_s_own() -> None:
    """perturbed_all: the values (and the steps' gradients) of drawing each tensor's noise in turn."""
    torch.manual_seed(3)
    tensors = [torch.randn(6, 4, 3, 3), torch.randn(6), torch.randn(2, 5, 7)]
    quantizers = [LearnedQuantizer(x, slice_axis(tuple(x.shape))) for x in tensors]
    torch.manual_seed(0)
    each = [q.perturbed(x) for q, x in zip(quantizers, tensors, strict=True)]
    torch.manual_seed(0)
    together = perturbed_all(quantizers, tensors)
    for a, b in zip(each, together, strict=True):
        assert torch.equal(a, b)
    grads = [
        torch.autograd.grad(sum(v.square().sum() for v in out), [q.log_step for q in quantizers])
        for out in (each, together)
    ]
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)
