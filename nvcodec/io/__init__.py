"""Video input and output through PyAV, sample clips and synthetic test clips. Knows no models.

Input comes in through one door, :func:`prepare_video` (path or sample, frame range, crop, scale).
"""

from nvcodec.io.prepare import SAMPLE_CPU_SCALE, prepare_video, sample_scale
from nvcodec.io.sample import SAMPLE_CROP, find_bunny, load_sample
from nvcodec.io.spool import readable_once, spooled
from nvcodec.io.stream import InputSpec, Span
from nvcodec.io.synthetic import synthetic_clip
from nvcodec.io.video import (
    PIX_FMTS,
    Video,
    area_downscale,
    center_crop,
    check_output_type,
    crop_and_downscale,
    is_pattern,
    pattern_files,
    read_video,
    write_video,
)

__all__ = [
    "InputSpec",
    "Span",
    "PIX_FMTS",
    "SAMPLE_CPU_SCALE",
    "SAMPLE_CROP",
    "Video",
    "area_downscale",
    "center_crop",
    "check_output_type",
    "crop_and_downscale",
    "find_bunny",
    "is_pattern",
    "load_sample",
    "pattern_files",
    "prepare_video",
    "read_video",
    "readable_once",
    "sample_scale",
    "spooled",
    "synthetic_clip",
    "write_video",
]
