"""The structure rules of tools/structure_check.py hold for the package, and the check does catch
an upward import, a long function and a unit nobody placed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _checker():
    spec = importlib.util.spec_from_file_location("structure_check", ROOT / "tools" / "structure_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_keeps_its_floors_and_sizes() -> None:
    errors, _, _ = _checker().check(ROOT / "nvcodec")
    assert errors == []


def test_the_check_catches_what_it_forbids(tmp_path: Path) -> None:
    package = tmp_path / "nvcodec"
    (package / "entropy").mkdir(parents=True)
    (package / "entropy" / "coder.py").write_text("from nvcodec.compress.quantize import QTensor\n")
    (package / "compress").mkdir()
    (package / "compress" / "quantize.py").write_text("def f():\n" + "    x = 1\n" * 61)
    (package / "gadgets.py").write_text("import nvcodec.errors\n")
    errors, _, _ = _checker().check(package)
    assert any("entropy imports compress" in e for e in errors)
    assert any("f: 62 lines" in e for e in errors)
    assert any("'gadgets' has no row" in e for e in errors)
