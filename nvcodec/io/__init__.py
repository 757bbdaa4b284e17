"""Video input and output through PyAV, sample clips and synthetic test clips. Knows no models.

Input comes in through one door, :func:`prepare_video` (path or sample, frame range, crop, scale).
"""

from nvcodec.io.prepare import SAMPLE_CPU_SCALE, SAMPLE_CROP, prepare_video
from nvcodec.io.sample import find_bunny, load_sample
from nvcodec.io.synthetic import synthetic_clip
from nvcodec.io.video import (
    Video,
    area_downscale,
    center_crop,
    check_output,
    check_writable,
    read_video,
    write_video,
)

__all__ = [
    "SAMPLE_CPU_SCALE",
    "SAMPLE_CROP",
    "Video",
    "area_downscale",
    "center_crop",
    "check_output",
    "check_writable",
    "find_bunny",
    "load_sample",
    "prepare_video",
    "read_video",
    "synthetic_clip",
    "write_video",
]
