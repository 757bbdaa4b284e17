"""Native 4:2:0 / 10-bit coding (``--yuv``): the network fits the source's own planes and the
decoder writes them back in the source's format; the encoder's plane PSNRs are those of the file
a decode writes; the chroma stage; refusals."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from nvcodec.container import Section, pack_nrv, read_nrv
from nvcodec.format.pixels import TAG, Pixels, pack_pixels, read_pixels
from nvcodec.io import synthetic_clip, write_video
from nvcodec.io.raw import upsampled_planes
from nvcodec.io.video import read_video
from nvcodec.metrics import plane_psnr
from nvcodec.models.planes import chroma, plane_loss

SOURCES = {"yuv420p": "c_64x32_25fps_420.yuv", "yuv420p10le": "c_64x32_25fps_10bit_420.yuv", "yuv444p": "c.y4m"}


@pytest.fixture(scope="module")
def planar(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The 8x32x64 synthetic clip as raw 4:2:0 (8 and 10 bits) and as a 4:4:4 Y4M."""
    d, clip = tmp_path_factory.mktemp("planar"), synthetic_clip(8, 32, 64, seed=3)
    for pix_fmt, name in SOURCES.items():
        write_video(d / name, clip, Fraction(25), pix_fmt=pix_fmt)
    return {k: d / v for k, v in SOURCES.items()}


@pytest.mark.parametrize("pix_fmt", list(SOURCES))
def test_planes_round_trip_and_the_report_is_the_decoded_file_s(cli, planar, tmp_path: Path, pix_fmt: str) -> None:
    src, nrv = planar[pix_fmt], tmp_path / "n.nrv"
    code, out, err = cli("encode", src, "-o", nrv, "--yuv", "--params", "3000", "--epochs", "3", "--json", "-q")
    assert code == 0, err
    report = json.loads(out)
    assert report["coding"] == report["pix_fmt"] == pix_fmt
    assert not any("8-bit RGB" in n for n in report["notes"])
    rec = tmp_path / f"r{src.suffix}"
    code, _, err = cli("decode", nrv, "-o", rec, "-q")  # no --pix-fmt: the source's format
    assert code == 0, err
    size = {"size": "64x32", "pix_fmt": pix_fmt} if src.suffix == ".yuv" else {}
    got, want = _planes(rec, **size), _planes(src, **size)
    assert [p.shape for p in got] == [p.shape for p in want] and got[0].dtype == want[0].dtype
    depth = 10 if pix_fmt.endswith("10le") else 8
    measured = plane_psnr(want, got, depth)
    for k in ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv"):
        assert measured[k] == pytest.approx(report[k], abs=1e-9), k
    info = json.loads(cli("info", nrv, "--json")[1])["videos"][0]
    stage = "yuv420" if pix_fmt.startswith("yuv420") else "frame"  # hnerv's own 4:2:0 stage
    assert info["pixels"] == {"source": pix_fmt, "coding": pix_fmt, "stage": stage}


def _planes(path: Path, size: str | None = None, pix_fmt: str | None = None) -> tuple[np.ndarray, ...]:
    from nvcodec.io.raw import raw_format

    form = raw_format(path, size, "25", pix_fmt) if size else None
    video = read_video(path, raw=form)
    assert video.planes is not None
    return video.planes


def test_an_rgb_fit_of_a_4_2_0_source_decodes_to_its_format(cli, planar, tmp_path: Path) -> None:
    nrv, rec = tmp_path / "r.nrv", tmp_path / "r.y4m"
    args = ("--rgb", "--params", "3000", "--epochs", "1", "--json")
    code, out, _ = cli("encode", planar["yuv420p10le"], "-o", nrv, *args)
    assert code == 0 and any(
        "fitted as 8-bit RGB (--rgb; --yuv fits its planes at 10 bits)" in n for n in json.loads(out)["notes"]
    )
    assert cli("decode", nrv, "-o", rec, "-q")[0] == 0
    assert read_video(rec).pix_fmt == "yuv420p10le"
    info = json.loads(cli("info", nrv, "--json")[1])["videos"][0]
    assert info["pixels"] == {"source": "yuv420p10le", "coding": "rgb", "stage": "frame"}


def test_a_native_file_decodes_to_rgb_outputs_too(cli, planar, tmp_path: Path) -> None:
    nrv = tmp_path / "n.nrv"
    assert cli("encode", planar["yuv420p"], "-o", nrv, "--yuv", "--params", "3000", "--epochs", "1", "-q")[0] == 0
    assert cli("decode", nrv, "-o", tmp_path / "r.mkv", "-q")[0] == 0
    assert read_video(tmp_path / "r.mkv").frames.shape == (8, 32, 64, 3)


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p"])
def test_a_planar_source_is_coded_natively_by_default(cli, planar, tmp_path: Path, pix_fmt: str) -> None:
    size = ("--size", "64x32") if pix_fmt == "yuv420p" else ()
    for flag, coding in (((), pix_fmt), (("--rgb",), "rgb")):
        nrv = tmp_path / f"d{len(flag)}.nrv"
        code, out, err = cli("encode", planar[pix_fmt], "-o", nrv, *size, *flag, "--params", "3000", "--epochs", "1")
        assert code == 0, err
        assert json.loads(cli("info", nrv, "--json")[1])["videos"][0]["pixels"]["coding"] == coding


def test_an_rgb_source_or_a_patch_fit_is_coded_in_rgb_by_default(cli, planar, clip_dir: Path, tmp_path: Path) -> None:
    runs = {"m": (clip_dir / "tiny.mkv", ()), "p": (planar["yuv444p"], ("--model", "hinerv", "--patch", "16"))}
    for name, (src, extra) in runs.items():
        nrv = tmp_path / f"{name}.nrv"
        code, _, err = cli("encode", src, "-o", nrv, *extra, "--params", "3000", "--epochs", "1", "-q")
        assert code == 0, err
        pixels = json.loads(cli("info", nrv, "--json")[1])["videos"][0].get("pixels")
        assert pixels is None or pixels["coding"] == "rgb", pixels


def test_yuv_needs_a_planar_source(cli, clip_dir: Path, tmp_path: Path) -> None:
    code, out, err = cli("encode", clip_dir / "tiny.mkv", "-o", tmp_path / "x.nrv", "--yuv", "--epochs", "1")
    assert code != 0 and out == "" and len(err.strip().splitlines()) == 1 and "--yuv" in err, err
    assert not (tmp_path / "x.nrv").exists()


def test_the_chroma_stage_averages_blocks_back_to_the_planes() -> None:
    rng = np.random.default_rng(0)
    planes = (rng.integers(0, 1024, (2, 6, 8)), rng.integers(0, 1024, (2, 3, 4)), rng.integers(0, 1024, (2, 3, 4)))
    full = torch.from_numpy(upsampled_planes(planes, "yuv420p10le")).permute(0, 3, 1, 2).double()
    assert torch.equal(full[:, 0], torch.from_numpy(planes[0]).double())
    assert torch.equal(chroma(full, 2), torch.from_numpy(np.stack(planes[1:], axis=1)).double())
    out = full + 1.0  # every sample off by one: luma and chroma weighted 6:2 of an L1 loss of 1
    assert float(plane_loss(lambda a, b: (a - b).abs().mean(), 2)(out, full)) == pytest.approx(1.0)


def test_the_stage_s_planes_give_the_frame_output_s_loss_and_gradients() -> None:
    from torch.nn import functional as F

    from nvcodec.models.hnerv import HNeRV, HNeRVConfig
    from nvcodec.models.planes import Planes, frame_mse

    torch.manual_seed(0)
    model = HNeRV(HNeRVConfig(height=32, width=64, frames=2, strides=(2, 2), c0=8, lower_width=4, yuv420=True))
    embeddings = {"embedding": torch.randn(1, 16, *model.config.grid)}
    uv = torch.rand(1, 2, 16, 32)
    target = torch.cat([torch.rand(1, 1, 32, 64), uv.repeat_interleave(2, 2).repeat_interleave(2, 3)], 1)
    idx = torch.tensor([0])
    stage = model.decode_planes(idx, embeddings)
    assert isinstance(stage, Planes) and stage.luma.shape == (1, 1, 32, 64) and stage.chroma.shape == (1, 2, 16, 32)
    frames = model.decode(idx, embeddings)
    assert torch.equal(frames[:, :1], stage.luma) and torch.allclose(chroma(frames, 2), stage.chroma, atol=1e-7)
    want = float(F.mse_loss(frames.detach(), target))
    assert float(frame_mse(stage.detach(), target)) == pytest.approx(want, rel=1e-6)
    grads = []
    for out in (lambda: model.decode(idx, embeddings), lambda: model.decode_planes(idx, embeddings)):
        model.zero_grad()
        loss = plane_loss(F.mse_loss, 2)(out(), target)
        loss.backward()
        grads.append((float(loss.detach()), [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-6)
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(grads[0][1], grads[1][1], strict=True))
    assert Planes(stage.luma, stage.chroma).cropped(30, 60).chroma.shape == (1, 2, 15, 30)


def test_a_pixel_record_out_of_range_is_refused(cli, small_nrv: Path, tmp_path: Path) -> None:
    assert read_pixels(pack_pixels(Pixels("yuv420p", True))) == Pixels("yuv420p", True)
    for payload in (b"\x09\x00", b"\x01\x02", b"\x00\x01", b"\x01"):
        with pytest.raises(ValueError):
            read_pixels(payload)
    sections = read_nrv(small_nrv)
    bad = tmp_path / "bad.nrv"
    bad.write_bytes(pack_nrv([sections[0], Section(TAG, 0, b"\x07\x01"), *sections[1:]]))
    code, out, err = cli("decode", bad, "-o", tmp_path / "o.y4m")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "pixel format" in err
    assert not (tmp_path / "o.y4m").exists()


def test_a_segmented_native_file_decodes_its_planes_range_by_range(cli, tmp_path: Path) -> None:
    src, nrv = tmp_path / "s.y4m", tmp_path / "s.nrv"
    write_video(src, synthetic_clip(12, 32, 64, seed=5), Fraction(25), pix_fmt="yuv420p")
    args = ("--yuv", "--params", "4000", "--epochs", "1", "--segment", "6", "-q")
    assert cli("encode", src, "-o", nrv, *args)[0] == 0
    assert cli("decode", nrv, "-o", tmp_path / "all.y4m", "-q")[0] == 0
    assert cli("decode", nrv, "-o", tmp_path / "part.y4m", "--frames", "4:9", "-q")[0] == 0
    whole, part = _planes(tmp_path / "all.y4m"), _planes(tmp_path / "part.y4m")
    assert all(np.array_equal(w[4:9], p) for w, p in zip(whole, part, strict=True))
    assert read_video(tmp_path / "part.y4m").pix_fmt == "yuv420p"


def test_the_api_decodes_a_native_file_s_planes(planar, small_nrv: Path, tmp_path: Path) -> None:
    import nvcodec
    from nvcodec.errors import NvcError

    nrv = tmp_path / "n.nrv"
    nvcodec.encode(planar["yuv420p10le"], nrv, yuv=True, params=3000, epochs=1, size="64x32")
    pix_fmt, (y, u, v) = nvcodec.decode_planes(nrv, frames=(2, 5))
    assert pix_fmt == "yuv420p10le" and y.shape == (3, 32, 64) and u.shape == v.shape == (3, 16, 32)
    assert y.dtype == np.uint16
    assert cli_planes_equal(nrv, tmp_path, (y, u, v))
    with pytest.raises(NvcError, match="no planar YUV source"):
        nvcodec.decode_planes(small_nrv)


def cli_planes_equal(nrv: Path, tmp_path: Path, planes: tuple[np.ndarray, ...]) -> bool:
    """Whether a decode of frames 2:5 to Y4M writes ``planes``."""
    from nvcodec.pipeline import decode_file

    decode_file(nrv, tmp_path / "d.y4m", frames=(2, 5), device="cpu")
    return all(np.array_equal(a, b) for a, b in zip(_planes(tmp_path / "d.y4m"), planes, strict=True))


def test_the_planes_are_weighted_as_the_6_1_1_psnr_weighs_them() -> None:
    torch.manual_seed(0)
    target = torch.rand(2, 3, 8, 8, dtype=torch.float64)  # chroma repeated over 2x2 blocks, as a fit's targets
    target[:, 1:] = torch.rand(2, 2, 4, 4, dtype=torch.float64).repeat_interleave(2, 2).repeat_interleave(2, 3)
    out = (target + 0.1 * torch.randn_like(target) * torch.tensor([1.0, 0.2, 0.5]).view(1, 3, 1, 1)).requires_grad_()
    mse = lambda a, b: ((a - b) ** 2).mean()  # noqa: E731
    loss = plane_loss(mse, 2)(out, target)
    (grad,) = torch.autograd.grad(loss, out)
    # the 6:1:1 mean of the planes' log-distortions, scaled by the loss's own value, has the same gradient
    y, c, t = out[:, :1], chroma(out, 2), chroma(target, 2)
    logs = 6 * mse(y, target[:, :1]).log() + mse(c[:, :1], t[:, :1]).log() + mse(c[:, 1:], t[:, 1:]).log()
    (want,) = torch.autograd.grad(float(loss.detach()) * logs / 8, out)
    assert torch.allclose(grad, want)
    fixed = plane_loss(mse, 2, adaptive=False)(out, target)
    assert float(fixed.detach()) == pytest.approx(float(loss.detach()))  # the same value, weighted by the shares alone


def test_hnerv_s_4_2_0_stage_makes_whole_chroma_blocks_at_a_fraction_of_the_work() -> None:
    """The stage's frame-size output: luma from the head's first four channels, each chroma
    sample repeated over its 2x2 block (so the chroma stage averages back exactly what the head
    made), the embedding grid of the frame stage, and under half its multiply-accumulates."""
    from torch.nn import functional as F

    from nvcodec.models import kmac_per_pixel, solve_config, spec

    hnerv = spec("hnerv")
    frame, stage = (solve_config(hnerv, 48, 64, 4, 6000, f) for f in ({}, {"yuv420": True}))
    assert stage.yuv420 and stage.grid == frame.grid and (stage.height, stage.width) == (48, 64)
    assert kmac_per_pixel(hnerv, stage, 48, 64) < 0.5 * kmac_per_pixel(hnerv, frame, 48, 64)
    torch.manual_seed(0)
    model = hnerv.build(stage, with_encoder=True)
    frames = torch.rand(2, 3, 48, 64)
    with torch.no_grad():
        embeddings = model.encode_frames(frames)
        out = model.decode(torch.tensor([0, 1]), embeddings)
        head = model.decoder(F.gelu(model.stem(embeddings["embedding"])))
    assert out.shape == (2, 3, 48, 64) and head.shape == (2, 6, 24, 32)
    assert torch.equal(F.pixel_unshuffle(out[:, :1], 2), head[:, :4])
    assert torch.equal(chroma(out, 2), head[:, 4:])
    assert torch.equal(out[:, 1:], head[:, 4:].repeat_interleave(2, 2).repeat_interleave(2, 3))


def test_the_stage_s_field_is_in_a_file_only_when_set() -> None:
    """``yuv420`` is optional in the file: a config without it (every earlier file) reads as the
    frame stage and writes the same record as before; set, it is written and read back."""
    from nvcodec.models import config_fields_of, solve_config, spec

    hnerv = spec("hnerv")
    frame, stage = (solve_config(hnerv, 32, 64, 4, 3000, f) for f in ({}, {"yuv420": True}))
    assert "yuv420" not in config_fields_of(frame) and config_fields_of(stage)["yuv420"] is True
    assert hnerv.config_from_fields(config_fields_of(frame)) == frame
    assert hnerv.config_from_fields(config_fields_of(stage)) == stage
    assert hnerv.config_from_fields({**config_fields_of(frame), "yuv420": False}) == frame
    with pytest.raises(ValueError, match="yuv420"):
        hnerv.config_from_fields({**config_fields_of(stage), "yuv420": 1})
    with pytest.raises(ValueError, match=r"missing \['c0'\]"):
        hnerv.config_from_fields({k: v for k, v in config_fields_of(frame).items() if k != "c0"})


def test_training_s_chroma_stage_off_fits_frame_size_outputs(planar, tmp_path: Path) -> None:
    import nvcodec
    from nvcodec.pipeline.decode import load_entries
    from nvcodec.pipeline.training import Training

    for on, nrv in ((True, tmp_path / "s.nrv"), (False, tmp_path / "f.nrv")):
        nvcodec.encode(planar["yuv420p"], nrv, yuv=True, params=3000, epochs=1, training=Training(chroma_stage=on))
        assert load_entries(nrv)[0].config.yuv420 is on
    nvcodec.encode(planar["yuv444p"], tmp_path / "4.nrv", yuv=True, params=3000, epochs=1)
    assert load_entries(tmp_path / "4.nrv")[0].config.yuv420 is False  # 4:4:4 chroma: no 4:2:0 stage


def test_plane_weights_divide_by_the_running_mean_of_the_plane_losses() -> None:
    """With ``memory`` m each plane's weight is its share over the running mean of its losses
    (each step weighing 1 - m), not over this step's loss alone."""
    square = lambda a, b: ((a - b) ** 2).mean()  # noqa: E731
    target, ones = torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)
    second = torch.tensor([1.0, 0.5, 0.5]).view(1, 3, 1, 1).expand(1, 3, 2, 2)  # losses 1, 1/4, 1/4
    for memory, want in ((0.0, 0.8125), (0.5, 0.90625 * (0.75 + 2 * 0.125 * 0.25 / 0.625))):
        f = plane_loss(square, 1, memory=memory)
        f(ones, target)  # every plane's loss 1
        assert float(f(second, target)) == pytest.approx(want)


class _Planes(torch.nn.Module):
    """A stand-in network whose outputs are a clip's own planes (chroma repeated to full size)."""

    def __init__(self, planes: np.ndarray) -> None:
        super().__init__()
        self.planes = torch.from_numpy(planes).permute(0, 3, 1, 2).float() / 255.0

    def decode(self, index: torch.Tensor, embeddings: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.planes[index]


def test_the_fitted_psnr_of_a_native_fit_reads_its_outputs_as_planes(planar) -> None:
    from nvcodec.io.raw import raw_format
    from nvcodec.pipeline.report import float_quality

    video = read_video(planar["yuv420p"], raw=raw_format(planar["yuv420p"], None, "25", None))
    assert video.planes is not None
    model = _Planes(upsampled_planes(video.planes, "yuv420p"))
    native, _ = float_quality(model, {}, video, torch.device("cpu"), "yuv420p")
    as_rgb, _ = float_quality(model, {}, video, torch.device("cpu"))
    assert native > 40.0 and as_rgb < native - 10.0  # the planes converted as the decoder converts them
