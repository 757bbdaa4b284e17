"""hinerv-mc: camera motion coded as a canvas and per-frame maps. The canvas plan covers every
frame, the maps round-trip exactly and are range-checked, a frame-sized canvas with still maps
reads the canvas's own pixels, and on a panning clip encode -> decode gives the frames the encoder
measured (1 and 2 threads), ``--frames a:b`` decodes a range alone, ``info`` shows the camera, a
crafted file with an out-of-range map is refused in one line, and a still clip codes no motion."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import one_line

from nvcodec.io import read_video, write_video
from nvcodec.metrics import mean_psnr
from nvcodec.models import spec
from nvcodec.motion.affine import FIELD_LIMIT
from nvcodec.motion.canvas import MARGIN, pack_fields, plan_canvas, unpack_fields

QUICK = ["--model", "hinerv-mc", "--params", "4000", "--epochs", "2", "--no-rd", "--json", "-q"]


def _shift_maps(frames: int, dx: float, dy: float) -> np.ndarray:
    """Frame t onto frame 0 (centred coordinates) for a camera moving (dx, dy) px a frame."""
    return np.stack([np.array([[1.0, 0.0, dx * t], [0.0, 1.0, dy * t]]) for t in range(frames)])


def test_the_canvas_covers_every_frame_and_its_maps_round_trip_exactly() -> None:
    plan = plan_canvas(_shift_maps(6, 2.5, -1.25), 40, 60)
    assert plan is not None
    canvas_h, canvas_w, maps = plan
    assert (canvas_w, canvas_h) == (60 + 13 + 2 * MARGIN, 40 + 7 + 2 * MARGIN)
    corners = np.array([[0.0, 0.0, 1.0], [59.0, 0.0, 1.0], [0.0, 39.0, 1.0], [59.0, 39.0, 1.0]])
    seen = np.einsum("ck,tjk->tcj", corners, maps)
    assert seen.min() >= MARGIN - 0.5 and (seen[..., 0].max() <= canvas_w - 1) and seen[..., 1].max() <= canvas_h - 1
    assert np.array_equal(unpack_fields(pack_fields(maps), 6), maps)  # the maps are exactly their fields


def test_a_motion_field_out_of_range_or_of_the_wrong_length_is_refused() -> None:
    still = pack_fields(np.tile(np.eye(2, 3), (3, 1, 1)))
    with pytest.raises(ValueError, match="not 6 for each of 4 frames"):
        unpack_fields(still, 4)
    with pytest.raises(ValueError, match="difference is out of range"):
        unpack_fields((1 << 23, *still[1:]), 3)
    ramp = list(still)
    ramp[6] = FIELD_LIMIT  # frame 1's translation jumps, then keeps growing by as much a frame
    with pytest.raises(ValueError, match="field is out of range"):
        unpack_fields(tuple(ramp), 3)


def test_a_still_camera_reads_the_canvas_pixels_themselves() -> None:
    torch.manual_seed(0)
    model = spec("hinerv-mc").model_cls.default_config(32, 64, 4, (2, 2, 2, 2), 8)
    net = spec("hinerv-mc").build(model)
    index = torch.arange(4)
    with torch.no_grad():
        frames = net.decode(index, {})
        canvas = super(type(net), net).decode(index, {})
    assert (model.canvas_height, model.canvas_width) == (32, 64) and torch.equal(frames, canvas)


def _pan(path: Path, frames: int = 8, step: int = 3) -> Path:
    """A clip panning ``step`` px a frame to the right over a smooth textured still."""
    rng = np.random.default_rng(5)
    coarse = rng.random((12, 30, 3))
    still = np.kron(coarse, np.ones((6, 6, 1)))  # 72 x 180
    still = (255 * (0.5 * still + 0.5 * np.roll(still, 3, axis=1))).astype(np.uint8)
    clip = np.stack([still[8:56, step * t : step * t + 80] for t in range(frames)])
    write_video(path, clip, Fraction(25, 1))
    return path


@pytest.fixture(scope="module")
def pan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _pan(tmp_path_factory.mktemp("mc") / "pan.mkv")


@pytest.mark.parametrize("threads", [1, 2])
def test_a_panning_clip_decodes_to_what_the_encoder_measured(
    cli, pan: Path, tmp_path: Path, threads: int, all_cores: None
) -> None:
    out = tmp_path / "pan.nrv"
    code, stdout, err = cli("encode", pan, "-o", out, *QUICK, "--threads", threads)
    assert code == 0, err
    report = json.loads(stdout)
    assert any(n.startswith("camera motion (rotzoom): canvas") for n in report["notes"]), report["notes"]
    decoded = tmp_path / "pan.mkv"
    assert cli("decode", out, "-o", decoded, "-q")[0] == 0
    frames = read_video(decoded).frames
    assert mean_psnr(read_video(pan).frames, frames) == pytest.approx(report["psnr"], abs=1e-6)
    info = json.loads(cli("info", out, "--json")[1])["videos"][0]
    assert info["model"] == "hinerv-mc" and info["camera"]["canvas_width"] > 80
    assert 18 <= info["camera"]["largest_move_px"] <= 24  # 7 frames of 3 px
    part = tmp_path / "part.mkv"
    assert cli("decode", out, "-o", part, "--frames", "3:6", "-q")[0] == 0
    assert np.array_equal(read_video(part).frames, frames[3:6])


def test_a_crafted_motion_field_is_refused_in_one_line(cli, pan: Path, tmp_path: Path) -> None:
    from nrv_fuzz import _edit_header

    out = tmp_path / "pan.nrv"
    assert cli("encode", pan, "-o", out, *QUICK)[0] == 0
    bad = tmp_path / "bad.nrv"
    motion = list(json.loads(cli("info", out, "--json")[1])["videos"][0]["config"]["motion"])
    motion[0] = 1 << 22  # frame 0's x translation: within a difference's range, out of a field's
    bad.write_bytes(_edit_header(out.read_bytes(), 0, {}, {"motion": tuple(motion)}))
    code, _, err = cli("decode", bad, "-o", tmp_path / "bad.mkv", "-q")
    assert code != 0 and one_line(err) and "bad.nrv" in err and "motion" in err
    assert not (tmp_path / "bad.mkv").exists()


def test_a_still_clip_codes_no_motion_and_the_option_needs_a_motion_model(cli, clip_dir: Path, tmp_path: Path) -> None:
    still = _pan(tmp_path / "still.mkv", step=0)
    code, stdout, err = cli("encode", still, "-o", tmp_path / "s.nrv", *QUICK)
    assert code == 0, err
    notes = json.loads(stdout)["notes"]
    assert any(n.startswith("camera motion: still camera") for n in notes), notes
    info = json.loads(cli("info", tmp_path / "s.nrv", "--json")[1])["videos"][0]
    assert info["camera"]["largest_move_px"] == 0 and info["config"]["canvas_width"] == info["config"]["width"]
    code, _, err = cli("encode", clip_dir / "tiny.mkv", "-o", tmp_path / "h.nrv", "--camera", "rotzoom")
    assert code != 0 and "hnerv does not code camera motion" in err
