"""Fuzz the .nrv reader at benchmark scale (the harness the test suite runs at 200 cases lives in
tests/nrv_fuzz.py; this entry point runs it with your options):

    python benchmarks/fuzz_nrv.py --cases 100000 --out benchmarks/results/fuzz-nrv.json
    python benchmarks/fuzz_nrv.py --cli-check     # and the crafted files through `nvcodec info` / `decode`
"""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "tests" / "nrv_fuzz.py"), run_name="__main__")
