"""Camera motion for a model that codes it (``capabilities.motion``): estimate the clip's global
motion (:mod:`nvcodec.motion.estimate`), plan the canvas and the per-frame maps
(:mod:`nvcodec.motion.canvas`) and hand them to sizing as config fields, decided once per encode
before any fitting. A clip whose camera does not move, one with a scene cut, or one whose canvas
would be too large gets a frame-sized canvas (no motion), and the report says why.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from nvcodec.io import Video
from nvcodec.motion import estimate_motion
from nvcodec.motion.affine import SHIFT_BITS, corner_error, identity
from nvcodec.motion.canvas import motion_bytes, pack_fields, plan_canvas, unpack_fields
from nvcodec.motion.mosaic import mosaic_psnr
from nvcodec.pipeline.options import AUTO, AUTO_MODELS, DEFAULT_CAMERA, EncodeOptions

STILL_PX = 0.5
"""A clip none of whose frames moves its corners this far from the first frame's has a still camera."""
SCENE_DB = 32.0
"""A model whose canvas has a chosen number of time steps (``capabilities.steps``) gets the fewest
of :data:`CANVAS_STEPS` whose mosaics hold the frames to this PSNR
(:func:`~nvcodec.motion.mosaic.mosaic_psnr`; one still canvas holds the benchmark's camera clips
over a still at 34-37 dB, Bunny's frames 60-89 at 29.3), else the most of them."""
CANVAS_STEPS = (1, 2, 4, 8)
"""Time steps a canvas may have, fewest first (on Bunny's frames 60-89 at 0.1 bpp and ``--time
30s``: one still canvas 27.66 dB, four steps 26.70; on the cut clip four steps 23.54)."""


def camera_fields(video: Video, options: EncodeOptions) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The canvas and motion config fields for ``video`` (none for a model without motion, or
    with ``camera`` "none"), and the report's notes; for a model whose canvas has a chosen number
    of time steps, that number (``latent_frames``), with or without motion."""
    if not options.spec.capabilities.motion:
        return {}, ()
    fields, notes = _motion_fields(video, options) if (options.camera or DEFAULT_CAMERA) != "none" else ({}, ())
    if not options.spec.capabilities.steps:
        return fields, notes
    steps, ceiling = canvas_steps(video, fields)
    what = "one still canvas" if steps == 1 else f"a canvas of {steps} time steps"
    return {**fields, "latent_frames": steps}, (
        *notes,
        f"{what}: the frames read from its mosaics reach {ceiling:.1f} dB",
    )


def canvas_steps(video: Video, fields: dict[str, Any]) -> tuple[int, float]:
    """The fewest of :data:`CANVAS_STEPS` time steps whose mosaics, through the maps of the camera
    ``fields`` (a still, frame-sized canvas without them), hold ``video``'s frames to
    :data:`SCENE_DB` (else the most), and the PSNR they hold them to."""
    for steps in [s for s in CANVAS_STEPS if s <= video.num_frames] or [1]:
        ceiling = _held(video, fields, steps)
        if ceiling >= SCENE_DB:
            break
    return steps, ceiling


def _held(video: Video, fields: dict[str, Any], steps: int) -> float:
    """The PSNR to which ``steps`` mosaics on the canvas of the camera ``fields`` (a still,
    frame-sized canvas without them) hold ``video``'s frames."""
    t = video.num_frames
    canvas = (fields.get("canvas_height", video.height), fields.get("canvas_width", video.width))
    maps = unpack_fields(fields["motion"], t) if "motion" in fields else np.tile(np.eye(2, 3), (t, 1, 1))
    return mosaic_psnr(video.frames, maps, canvas, steps)


def choose_model(video: Video, options: EncodeOptions) -> tuple[EncodeOptions, tuple[str, ...]]:
    """``options`` with ``auto`` resolved for ``video`` (unchanged for a named model), and the
    report's note: ``canvas`` where one still canvas holds the frames, read through the camera's
    maps, to :data:`SCENE_DB` (a still scene under a moving or still camera), else ``hnerv``, and
    always ``hnerv`` for ``--params`` and the post-training path (a canvas is sized by its canvas
    and coded by the rate–distortion fit). Not for a canvas of more time steps: Bunny's frames
    60-89 are held at 32.9 dB by four, and there at ``--time 60s`` canvas needed +50.3 % of
    hnerv's bits (``motion-cpu-60.json``)."""
    if options.model != AUTO:
        return options, ()
    if options.params is not None or not options.uses_rd:
        why = "canvas codes only by rate and distortion, for a --bpp budget"
        return _with_model(options, AUTO_MODELS[0]), (f"model auto: {AUTO_MODELS[0]} ({why})",)
    probe = dataclasses.replace(options, model=AUTO_MODELS[1])
    fields = _motion_fields(video, probe)[0] if (options.camera or DEFAULT_CAMERA) != "none" else {}
    ceiling = _held(video, fields, 1)
    chosen = AUTO_MODELS[1] if ceiling >= SCENE_DB else AUTO_MODELS[0]
    why = f"one still canvas holds the frames at {ceiling:.1f} dB" + (
        "" if chosen == AUTO_MODELS[1] else f", not {SCENE_DB:g}"
    )
    return _with_model(options, chosen), (f"model auto: {chosen} ({why})",)


def _with_model(options: EncodeOptions, model: str) -> EncodeOptions:
    """``options`` for ``model``, with that model's recipe's warm-up share unless one was given."""
    training = dataclasses.replace(options.training, warmup_share=None) if options.recipe_warmup else options.training
    return dataclasses.replace(options, model=model, training=training)


def _motion_fields(video: Video, options: EncodeOptions) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The canvas and motion config fields of ``video``'s estimated camera (none where it does
    not move, cuts, or needs too large a canvas), and the report's note."""
    camera = options.camera or DEFAULT_CAMERA
    t, h, w = video.num_frames, video.height, video.width
    motion = estimate_motion(video.frames, camera)
    if len(motion.shots) > 1:
        cuts = motion.shots[1:]
        where = ", ".join(str(s) for s in cuts[:5]) + (", ..." if len(cuts) > 5 else "")
        why = f"{len(cuts)} of {t - 1} frames do not align with the one before (a cut or no one camera: {where})"
        return {}, (f"camera motion: {why}; coded without motion (no canvas per shot yet)",)
    moved = max(corner_error(m, identity(), h, w) for m in motion.maps)
    if moved < STILL_PX:
        return {}, (f"camera motion: still camera (at most {moved:.2f} px); coded without motion",)
    plan = plan_canvas(motion.maps, h, w, options.motion_bits)
    if plan is None:
        return {}, ("camera motion: the canvas would exceed 4x the frame; coded without motion",)
    canvas_h, canvas_w, maps = plan
    packed = pack_fields(maps)
    precision = "" if options.motion_bits == SHIFT_BITS else f", maps to 1/{1 << options.motion_bits} px"
    note = (
        f"camera motion ({camera}{precision}): canvas {canvas_w}x{canvas_h} for {w}x{h} frames, up to {moved:.1f} px; "
        f"{motion_bytes(packed)} bytes of maps ({motion_bytes(packed) / t:.1f} a frame)"
    )
    return {"canvas_height": canvas_h, "canvas_width": canvas_w, "motion": packed}, (note,)
