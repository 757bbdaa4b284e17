"""nvcodec: a neural video codec. A NeRV-family network is overfitted to a video, pruned,
quantized and entropy-coded into one self-describing ``.nrv`` file that decodes on its own."""

__version__ = "0.1.0"
