"""The README stays short and its status table is the committed results' own (printed by
``benchmarks/report.py --status``), and docs/results.md is ``benchmarks/report.py --markdown``'s
output, so the numbers cannot drift from their files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_fits_a_screen_and_shows_the_committed_status_table() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    table = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "report.py"), "--status"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert table.count("\n") >= 3 and table in readme
    assert ". .venv/bin/activate && python -m pytest -q -n 2" in readme  # the command .ci/run runs


def test_the_readme_shows_the_committed_camera_motion_table() -> None:
    readme = (ROOT / "README.md").read_text()
    command = [sys.executable, str(ROOT / "benchmarks" / "report.py"), "--motion"]
    table = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    assert table.count("\n") >= 3 and table in readme
    pairs = json.loads((ROOT / "benchmarks" / "results" / "motion-cpu.json").read_text())["summary"]["pairs"]
    mean = pairs["canvas vs canvas none"]["moving_mean_percent"]
    assert f"{mean:+.1f} % mean BD-rate over the six" in " ".join(readme.split())


def test_the_readme_s_preset_figures_are_the_committed_results_own() -> None:
    readme = (ROOT / "README.md").read_text()
    command = [sys.executable, str(ROOT / "benchmarks" / "report.py"), "--presets"]
    assert subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip() in readme
    runs = json.loads((ROOT / "benchmarks" / "results" / "presets-cpu.json").read_text())["runs"]
    fast = next(r for r in runs if (r["clip"], r["preset"]) == ("bunny", "fast"))
    took = f"`--preset fast` took {fast['wall_seconds']:.0f} s on 2 cores for {fast['bpp']:.4f} bpp and"
    assert took in " ".join(readme.split()) and f"{fast['psnr']:.2f} dB" in readme


def test_the_results_page_is_the_committed_results_own() -> None:
    page = (ROOT / "docs" / "results.md").read_text()
    command = [sys.executable, str(ROOT / "benchmarks" / "report.py"), "--markdown"]
    printed = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert page == printed, (
        "docs/results.md differs from the committed results under benchmarks/results/; regenerate it with "
        "`python benchmarks/report.py --markdown > docs/results.md`"
    )


def test_the_docs_it_links_exist_and_nothing_points_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    for page in ("docs/usage.md", "docs/design.md", "docs/format.md", "docs/api.md", "docs/results.md", "CHANGELOG.md"):
        assert page in readme and (ROOT / page).is_file()
    for path in [ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md")]:
        assert "../shared" not in path.read_text(), path
