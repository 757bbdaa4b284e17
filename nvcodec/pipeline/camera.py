"""Camera motion for a model that codes it (``capabilities.motion``): estimate the clip's global
motion (:mod:`nvcodec.motion.estimate`), plan the canvas and the per-frame maps
(:mod:`nvcodec.motion.canvas`) and hand them to sizing as config fields, decided once per encode
before any fitting. A clip whose camera does not move, one with a scene cut, or one whose canvas
would be too large gets a frame-sized canvas (no motion), and the report says why.
"""

from __future__ import annotations

from typing import Any

from nvcodec.io import Video
from nvcodec.motion import estimate_motion
from nvcodec.motion.affine import corner_error, identity
from nvcodec.motion.canvas import motion_bytes, pack_fields, plan_canvas
from nvcodec.pipeline.options import DEFAULT_CAMERA, EncodeOptions

STILL_PX = 0.5
"""A clip none of whose frames moves its corners this far from the first frame's has a still camera."""


def camera_fields(video: Video, options: EncodeOptions) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The canvas and motion config fields for ``video`` (none for a model without motion, or
    with ``camera`` "none"), and the report's note."""
    camera = options.camera or DEFAULT_CAMERA
    if not options.spec.capabilities.motion or camera == "none":
        return {}, ()
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
    plan = plan_canvas(motion.maps, h, w)
    if plan is None:
        return {}, ("camera motion: the canvas would exceed 4x the frame; coded without motion",)
    canvas_h, canvas_w, maps = plan
    packed = pack_fields(maps)
    note = (
        f"camera motion ({camera}): canvas {canvas_w}x{canvas_h} for {w}x{h} frames, up to {moved:.1f} px; "
        f"{motion_bytes(packed)} bytes of maps ({motion_bytes(packed) / t:.1f} a frame)"
    )
    return {"canvas_height": canvas_h, "canvas_width": canvas_w, "motion": packed}, (note,)
