"""Video input and output through PyAV, sample clips and synthetic test clips. Knows no models."""

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
    "Video",
    "area_downscale",
    "center_crop",
    "check_output",
    "check_writable",
    "find_bunny",
    "load_sample",
    "read_video",
    "synthetic_clip",
    "write_video",
]
