"""The only package that wires the stages together; the CLI, the bench and the benchmark scripts call it.

* :mod:`~nvcodec.pipeline.options`: every user choice, its default, validated once; the device.
* :mod:`~nvcodec.pipeline.run`: ``encode_source``, the encode command's flow for one input (one
  network, or segments).
* :mod:`~nvcodec.pipeline.sizing`: the budget and the model's config, for every path, once per encode.
* :mod:`~nvcodec.pipeline.encode`: one video -> one file, the dispatcher to :mod:`~nvcodec.pipeline.rd`
  (rate–distortion fit), :mod:`~nvcodec.pipeline.post` (``--no-rd``) or the archive path; the report.
* :mod:`~nvcodec.pipeline.segments`, :mod:`~nvcodec.pipeline.workdir`, :mod:`~nvcodec.pipeline.workers`,
  :mod:`~nvcodec.pipeline.parallel`: a long video as segments, fitted one by one, in worker processes
  or over torchrun's ranks.
* :mod:`~nvcodec.pipeline.progressive`: archives (``pfnr``): sessions with frozen weights, ``append``.
* :mod:`~nvcodec.pipeline.decode`: file -> network -> frames -> video file.
* :mod:`~nvcodec.pipeline.inspect`: ``info``.
* :mod:`~nvcodec.pipeline.report`: typed results, measured on the decoder's frames.
* :mod:`~nvcodec.pipeline.coded_size`: the bytes a candidate would cost, by packing it (for rate control).

Importing it sets torch's CPU arithmetic to flush subnormal floats (:mod:`nvcodec.numerics`), before
any of its stages runs a torch operation: encoder, report and decoder compute alike.
"""

from nvcodec.numerics import flush_subnormals
from nvcodec.pipeline.decode import decode_file, decode_frames, decode_planes, load_archive, load_entries
from nvcodec.pipeline.encode import encode_video
from nvcodec.pipeline.inspect import file_info
from nvcodec.pipeline.options import DEFAULT_BPP, EncodeOptions, resolve_device
from nvcodec.pipeline.progressive import append_video, encode_archive
from nvcodec.pipeline.report import DecodeReport, EncodeReport
from nvcodec.pipeline.run import encode_source

flush_subnormals()

__all__ = [
    "DEFAULT_BPP",
    "DecodeReport",
    "EncodeOptions",
    "EncodeReport",
    "append_video",
    "decode_file",
    "decode_frames",
    "decode_planes",
    "encode_archive",
    "encode_source",
    "encode_video",
    "file_info",
    "load_archive",
    "load_entries",
    "resolve_device",
]
