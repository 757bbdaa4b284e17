"""nvcodec: a neural video codec. A NeRV-family network is overfitted to a video, pruned,
quantized and entropy-coded into one self-describing ``.nrv`` file that decodes on its own.

The Python API (:mod:`nvcodec.api`): ``nvcodec.encode``, ``nvcodec.decode``,
``nvcodec.decode_planes`` and ``nvcodec.info``, loaded on first use so that ``import nvcodec`` stays light.
"""

from typing import Any

__version__ = "0.3.0"
__all__ = ["__version__", "decode", "decode_planes", "encode", "info"]


def __getattr__(name: str) -> Any:
    """The functions of :mod:`nvcodec.api`, imported when first asked for."""
    if name in ("encode", "decode", "decode_planes", "info"):
        from nvcodec import api

        return getattr(api, name)
    raise AttributeError(f"module 'nvcodec' has no attribute {name!r}")
