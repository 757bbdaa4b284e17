"""canvas: latent grids on a camera canvas. The mosaic ceiling tells a still scene from a moving
one, the encoder picks the canvas's time steps by it, a panning clip encodes -> decodes to the
frames the encoder measured (1 and 2 threads) with ``--frames a:b`` decoding a range alone,
``info`` names the camera model and the canvas's time steps, a fit renders only the window its
frames read (the same values as the whole canvas), and a crafted config is refused in
one line."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import one_line
from torch.nn import functional as F

from nvcodec.io import read_video, write_video
from nvcodec.metrics import mean_psnr
from nvcodec.models import spec
from nvcodec.models.latent_canvas import bilinear_matrix
from nvcodec.motion.canvas import frame_points, pack_fields, plan_canvas, read_window
from nvcodec.motion.mosaic import mosaic_psnr
from nvcodec.pipeline.inspect import map_kind

QUICK = ["--model", "canvas", "--bpp", "0.5", "--epochs", "4", "--json", "-q"]


def _still(seed: int = 5) -> np.ndarray:
    """A smooth textured still (noise blurred at 2.5 px), 72 x 200 x 3 uint8."""
    import cv2

    noise = cv2.GaussianBlur(np.random.default_rng(seed).random((72, 200, 3)).astype(np.float32), (0, 0), 2.5)
    return (255 * (noise - noise.min()) / (noise.max() - noise.min())).astype(np.uint8)


def _pan(path: Path, frames: int = 8, step: int = 3) -> Path:
    """A clip panning ``step`` px a frame to the right over :func:`_still`."""
    still = _still()
    write_video(path, np.stack([still[8:56, step * t : step * t + 80] for t in range(frames)]), Fraction(25, 1))
    return path


@pytest.fixture(scope="module")
def pan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _pan(tmp_path_factory.mktemp("canvas") / "pan.mkv")


def _shift_maps(frames: int, dx: float) -> np.ndarray:
    return np.stack([np.array([[1.0, 0.0, dx * t], [0.0, 1.0, 0.0]]) for t in range(frames)])


def test_the_mosaic_holds_a_still_scene_and_not_two_scenes() -> None:
    still = _still()
    frames = np.stack([still[8:56, 3 * t : 3 * t + 80] for t in range(6)])
    plan = plan_canvas(_shift_maps(6, 3.0), 48, 80)
    assert plan is not None
    ch, cw, maps = plan
    assert mosaic_psnr(frames, maps, (ch, cw)) > 45  # whole-pixel shifts: the mosaic is the still
    two = np.concatenate([frames[:3, :, :40], np.stack([_still(6)[8:56, :80]] * 3)[:, :, :40]])
    identity = np.tile(np.eye(2, 3), (6, 1, 1))
    assert mosaic_psnr(two, identity, (48, 40)) < 25
    assert mosaic_psnr(two, identity, (48, 40), steps=2) > 45  # a step per scene holds both


def test_the_maps_are_named_by_the_fewest_parameters_they_fit() -> None:
    turn = np.stack([np.array([[np.cos(a), -np.sin(a), 1.0], [np.sin(a), np.cos(a), 0.0]]) for a in (0.0, 0.1)])
    shear = np.stack([np.eye(2, 3), np.array([[1.0, 0.2, 0.0], [0.0, 1.0, 0.0]])])
    assert map_kind(np.tile(np.eye(2, 3), (3, 1, 1))) == "still"
    assert map_kind(_shift_maps(3, 2.0)) == "translation"
    assert (map_kind(turn), map_kind(shear)) == ("rotzoom", "affine")


def test_a_still_canvas_is_rendered_once_and_read_through_each_map() -> None:
    torch.manual_seed(0)
    config = spec("canvas").model_cls.default_config(16, 24, 3, (1,), 8, canvas_height=20, canvas_width=30)
    net = spec("canvas").build(config)
    for z in net.latents:
        torch.nn.init.normal_(z)
    net.eval()
    with torch.no_grad():
        frames = net.decode(torch.arange(3), {})
        canvas = net.render_canvas(torch.zeros(1, dtype=torch.long))
    assert config.latent_frames == 1 and frames.shape == (3, 3, 16, 24)
    assert torch.equal(frames[1], frames[0]) and torch.equal(frames[0], canvas[0, :, :16, :24])


@pytest.mark.parametrize("steps", [1, 3])
def test_a_fit_renders_only_the_window_its_frames_read(steps: int) -> None:
    torch.manual_seed(0)
    model = spec("canvas").model_cls
    maps = np.stack([np.array([[1.0, 0.0, 2.7 * t + 0.3], [0.0, 1.0, 0.6 * t]]) for t in range(6)])
    fields = {"canvas_height": 22, "canvas_width": 40, "motion": pack_fields(maps), "latent_frames": steps}
    net = spec("canvas").build(model.default_config(16, 24, 6, (1,), 8, **fields))
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.5)
    points = frame_points(net.maps, torch.tensor([0]), 16, 24, (22, 40))
    (r0, r1, c0, c1), _ = read_window(points, (22, 40), margin=1)
    assert (r0, r1, c0, c1) == (0, 18, 0, 26)  # the first frame, its neighbours and a pixel for the head
    for index in ([0], [5], [1, 4]):
        with torch.no_grad():
            fast, exact = net.train().decode(torch.tensor(index), {}), net.eval().decode(torch.tensor(index), {})
        assert (fast - exact).abs().max() < 1e-5, index
    z = torch.randn(1, 1, 11, 20)
    for axis, size in ((2, 22), (3, 40)):
        grown = F.interpolate(z, size=(22 if axis == 2 else 11, 40 if axis == 3 else 20), mode="bilinear")
        matrix, _ = bilinear_matrix(z.shape[axis], size)
        mine = matrix @ z[0, 0] if axis == 2 else z[0, 0] @ matrix.T
        assert (mine - grown[0, 0]).abs().max() < 1e-6


@pytest.mark.parametrize("threads", [1, 2])
def test_a_panning_clip_decodes_to_what_the_encoder_measured(
    cli, pan: Path, tmp_path: Path, threads: int, all_cores: None
) -> None:
    out = tmp_path / "pan.nrv"
    code, stdout, err = cli("encode", pan, "-o", out, *QUICK, "--threads", threads, "--camera", "translation")
    assert code == 0, err
    report = json.loads(stdout)
    assert any(n.startswith("one still canvas: the frames read from its mosaics reach") for n in report["notes"])
    decoded = tmp_path / "pan.mkv"
    assert cli("decode", out, "-o", decoded, "-q")[0] == 0
    frames = read_video(decoded).frames
    assert mean_psnr(read_video(pan).frames, frames) == pytest.approx(report["psnr"], abs=1e-6)
    camera = json.loads(cli("info", out, "--json")[1])["videos"][0]["camera"]
    assert camera["model"] == "translation" and camera["time_steps"] == 1 and camera["canvas_width"] > 80
    part = tmp_path / "part.mkv"
    assert cli("decode", out, "-o", part, "--frames", "3:6", "-q")[0] == 0
    assert np.array_equal(read_video(part).frames, frames[3:6])


def test_coarser_maps_are_a_choice_of_motion_models_only(cli, pan: Path, tmp_path: Path) -> None:
    out = tmp_path / "coarse.nrv"
    code, stdout, err = cli("encode", pan, "-o", out, *QUICK, "--camera", "translation", "--motion-bits", "0")
    assert code == 0, err
    assert any("maps to 1/1 px" in n for n in json.loads(stdout)["notes"])
    for bad, why in (
        (["--motion-bits", "7"], "use 0 to 6"),
        (["--model", "hnerv", "--motion-bits", "2"], "hnerv does not"),
    ):
        code, _, err = cli("encode", pan, "-o", tmp_path / "bad.nrv", "--bpp", "0.5", "--epochs", "1", *bad)
        assert code != 0 and one_line(err) and why in err and not (tmp_path / "bad.nrv").exists()


@pytest.mark.parametrize(("field", "value"), [("latent_frames", 9), ("latent_levels", 13)])
def test_a_crafted_canvas_config_is_refused_in_one_line(cli, pan: Path, tmp_path: Path, field: str, value: int) -> None:
    from nrv_fuzz import _edit_header

    out = tmp_path / "pan.nrv"
    assert cli("encode", pan, "-o", out, *QUICK)[0] == 0
    bad = tmp_path / "bad.nrv"
    bad.write_bytes(_edit_header(out.read_bytes(), 0, {}, {field: value}))
    code, _, err = cli("decode", bad, "-o", tmp_path / "bad.mkv", "-q")
    assert code != 0 and one_line(err) and "bad.nrv" in err and field in err
    assert not (tmp_path / "bad.mkv").exists()


def test_auto_codes_a_still_scene_on_a_canvas_and_a_moving_one_with_hnerv(cli, pan: Path, clip_dir: Path) -> None:
    quick = ["--bpp", "0.5", "--epochs", "2", "--json", "-q"]
    out = pan.parent / "auto.nrv"
    code, stdout, err = cli("encode", pan, "-o", out, "--model", "auto", *quick, "-y")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["model"] == "canvas" and report["notes"][0].startswith(
        "model auto: canvas (one still canvas holds the frames at"
    )
    code, stdout, err = cli("encode", clip_dir / "tiny.mkv", "-o", out, "--model", "auto", *quick, "-y")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["model"] == "hnerv" and report["notes"][0].startswith(
        "model auto: hnerv (one still canvas holds the frames at"
    )
    code, stdout, err = cli(
        "encode", pan, "-o", out, "--model", "auto", "--params", "3000", "--epochs", "1", "--json", "-y"
    )
    assert code == 0 and json.loads(stdout)["model"] == "hnerv", err
    code, _, err = cli("encode", pan, "-o", out, "--model", "canvas", "--params", "3000", "-y")
    assert code != 0 and one_line(err) and "give --bpp" in err
