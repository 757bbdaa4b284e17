"""Rate-distortion benchmarking against x264 and x265: anchors, BD-rates, plots, result files."""

from nvcodec.bench.runner import BenchConfig, run_bench

__all__ = ["BenchConfig", "run_bench"]
