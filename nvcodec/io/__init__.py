"""Video input and output through PyAV, sample clips and synthetic test clips. Knows no models.

Input comes in through one door, :func:`prepare_video` (path or sample, frame range, crop, scale).
"""

from nvcodec.io.prepare import SAMPLE_CPU_SCALE, prepare_video, sample_scale
from nvcodec.io.raw import RAW_PIX_FMTS, RawFormat, frame_planes, is_raw, raw_format, rgb_to_planes
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
    frames_to_planes,
    is_pattern,
    pattern_files,
    read_video,
    video_planes,
    write_video,
)

__all__ = [
    "InputSpec",
    "RAW_PIX_FMTS",
    "RawFormat",
    "frame_planes",
    "is_raw",
    "raw_format",
    "rgb_to_planes",
    "Span",
    "PIX_FMTS",
    "SAMPLE_CPU_SCALE",
    "SAMPLE_CROP",
    "Video",
    "area_downscale",
    "center_crop",
    "check_output_type",
    "crop_and_downscale",
    "frames_to_planes",
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
    "video_planes",
    "write_video",
]
