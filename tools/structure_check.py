"""The package's structure rules, checked: which floor may import which, and how long a module or a
function may grow. Run from the repository root (``.ci/run`` does):

    python tools/structure_check.py            # prints every broken rule, then the figures; exit 1 if any

Floors, lowest first (a unit may import only the units its row names; every import counts,
including ones inside functions):

========================  ==================================================================
unit                      may import
========================  ==================================================================
errors, bitio, metrics,   nothing of nvcodec (bitio: errors)
progress
files                     errors
io, container, entropy,   errors, bitio, files (video I/O, the container, entropy coding and
compress, models,         compression maths know no models, no format and no pipeline;
ratecontrol, motion       entropy knows nothing of compress or fit; compress no bytes; motion:
                          errors alone, its estimation is the encoder's; models: motion's
                          canvas too, which a motion model reads its frames from)
format                    the byte layout of coded data: bitio, compress, container, entropy,
                          errors, models
render                    the decoder's path: compress, errors, models
fit                       training: compress, entropy, errors, format, models, progress
pipeline                  wires the stages: everything above but bench and cli
bench                     pipeline and what it uses
api, cli                  the Python API and the command line: everything (api: pipeline, io
                          and the floor); ``__main__``: cli; the package's ``__init__``: api
========================  ==================================================================
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
_FLOOR_0 = {"errors", "bitio", "files"}
_CORE = {"errors", "bitio", "files", "metrics", "progress"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "bitio": {"errors"},
    "metrics": set(),
    "numerics": set(),
    "progress": set(),
    "files": {"errors"},
    "io": _FLOOR_0,
    "container": _FLOOR_0,
    "entropy": {"errors", "bitio"},
    "compress": {"errors"},
    "models": {"errors", "motion"},
    "ratecontrol": {"errors"},
    "motion": {"errors"},
    "format": {"bitio", "compress", "container", "entropy", "errors", "models"},
    "render": {"compress", "errors", "models"},
    "fit": {"compress", "entropy", "errors", "format", "models", "progress"},
    "pipeline": _CORE
    | {
        "numerics",
        "io",
        "container",
        "entropy",
        "compress",
        "models",
        "ratecontrol",
        "motion",
        "format",
        "render",
        "fit",
    },
    "bench": _CORE | {"io", "pipeline", "models", "format", "container", "ratecontrol"},
    "cli": _CORE | {"io", "container", "models", "fit", "pipeline", "bench", "format"},
    "api": _CORE | {"io", "pipeline"},
    "__main__": {"cli"},
    "__init__": {"api"},
}


def unit_of(path: Path, package: Path) -> str:
    """The floor a module belongs to: its subpackage, or its own name for a top-level module."""
    parts = path.relative_to(package).with_suffix("").parts
    return parts[0]


def imported_units(tree: ast.AST, path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, unit) of every import of the package's own modules in ``tree``."""
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            if node.level:  # relative: resolve against the importing module's package
                base = path.relative_to(package.parent).with_suffix("").parts[: -node.level]
                module = ".".join([*base, module])
            modules = [module]
        for module in modules:
            parts = module.split(".")
            if parts[0] == package.name and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def check(package: Path) -> tuple[list[str], tuple[str, int], tuple[str, int]]:
    """Broken rules, the longest module and the longest function of ``package``."""
    errors, longest_module, longest_function = [], ("", 0), ("", 0)
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        lines, name = len(text.splitlines()), str(path)
        longest_module = max(longest_module, (name, lines), key=lambda x: x[1])
        if lines > MAX_MODULE_LINES:
            errors.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                where = f"{name}:{node.lineno} {node.name}"
                longest_function = max(longest_function, (where, length), key=lambda x: x[1])
                if length > MAX_FUNCTION_LINES:
                    errors.append(f"{name}:{node.lineno} {node.name}: {length} lines (at most {MAX_FUNCTION_LINES})")
        unit = unit_of(path, package)
        allowed = ALLOWED.get(unit)
        if allowed is None:
            errors.append(f"{name}: unit {unit!r} has no row in ALLOWED (add it, with what it may import)")
            continue
        for line, target in imported_units(tree, path, package):
            if target != unit and target not in allowed:
                errors.append(f"{name}:{line}: {unit} imports {target}")
    return errors, longest_module, longest_function


def main() -> int:
    """Print every broken rule and the figures; 1 when a rule is broken."""
    package = Path(sys.argv[1] if len(sys.argv) > 1 else "nvcodec")
    errors, module, function = check(package)
    for error in errors:
        print(error)
    print(
        f"{len(errors)} broken rules; longest module {module[0]} ({module[1]} lines), "
        f"longest function {function[0]} ({function[1]} lines)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
