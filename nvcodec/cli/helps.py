"""The help texts of the command line's options, in one place (the commands read them from here)."""

from __future__ import annotations

from nvcodec.io import SAMPLE_CPU_SCALE
from nvcodec.pipeline.effort import PRESET_SECONDS

TIME_HELP = "a duration (90s, 10m, 1h30m) the encode plans its epochs to fill, instead of --preset/--epochs."
PRESETS = (
    " | ".join(PRESET_SECONDS)
    + " (about "
    + " / ".join(f"{s:g}" for s in PRESET_SECONDS.values())
    + " s of fitting for 30 frames of 144x176 on 2 CPU cores, more for larger clips)"
)
SCALE_HELP = f"Box-downscale by this integer factor [1; the sample on CPU: {SAMPLE_CPU_SCALE}]."

SEGMENT_HELP = (
    "Code the video as consecutive segments of at most this many frames, each with its own network "
    "[300 for inputs longer than 600 frames, else one segment]."
)

RD_HELP = (
    "Fit for rate and distortion with learned steps [--rd; pfnr: --no-rd]; --no-rd: fit, then prune "
    "and search bit depths (also implied by --prune/--weight-bits/--embed-bits)."
)

CAMERA_HELP = "canvas, hinerv-mc, auto: camera motion coded, translation | rotzoom | affine | none [rotzoom]."
MOTION_BITS_HELP = "canvas, hinerv-mc, auto: precision of the camera maps, 1/2^N px, N from 0 to 6 [6]."
DECODE_OUTPUT_HELP = ".mp4/.mov (H.264), .mkv (FFV1, exact), .y4m, .yuv (raw), or frame_%04d.png (file k: frame k)."
DECODE_PIX_FMT_HELP = (
    ".mp4/.mov: yuv420p (plays everywhere) | yuv444p [yuv420p]; .y4m, .yuv: yuv420p | yuv420p10le | yuv444p "
    "[.y4m yuv444p, .yuv yuv420p]."
)
RAW_SIZE_HELP = "Raw .yuv input: frame size WIDTHxHEIGHT [from a name such as clip_176x144_25fps.yuv]."
RAW_FPS_HELP = "Raw .yuv input: frame rate (25, 29.97, 30000/1001) [from the name, else 25]."
RAW_PIX_FMT_HELP = "Raw .yuv input: yuv420p | yuv420p10le | yuv444p [from the name (10bit, 444), else yuv420p]."
VIDEO_HELP = "Video to encode (anything FFmpeg reads; - for standard input, read once)."
LOG_HELP = (
    "Write one JSON line per epoch to this file (stage, seconds, epoch, loss, psnr, lr; rd stages also bpp "
    "and lam) and the notes."
)
YUV_HELP = (
    "--yuv: fit a yuv420p, yuv420p10le or yuv444p source's own planes (4:2:0 chroma at half size, "
    "10 bits kept); --rgb: fit 8-bit RGB [--yuv for such a source, except pfnr and --patch; else --rgb]."
)
