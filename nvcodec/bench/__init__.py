"""Rate-distortion benchmarking against x264 and x265: anchors, BD-rates, plots, result files.

:class:`BenchConfig` says what to measure; :func:`nvcodec.bench.runner.run_bench` runs it (it needs
the ``bench`` extra: bjontegaard and matplotlib).
"""

from nvcodec.bench.config import BenchConfig

__all__ = ["BenchConfig"]
