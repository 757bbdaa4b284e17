"""Type-check the package with mypy against a committed baseline that may only shrink.

    python tools/mypy_check.py            # exit 1 on an error not in the baseline, or a baseline entry now fixed
    python tools/mypy_check.py --update   # rewrite tools/mypy-baseline.txt from today's errors

Errors are compared without line numbers (``path: error: message [code]``, counted), so code that
moves does not churn the baseline. A new error fails; a fixed one fails too until the baseline is
rewritten, so the committed count only goes down.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

BASELINE = Path(__file__).with_name("mypy-baseline.txt")
_LINE = re.compile(r"^(?P<path>[^:]+):\d+:(?:\d+:)? error: (?P<rest>.*)$")


def current_errors() -> Counter[str]:
    """Today's mypy errors of the package (configured in pyproject.toml), without line numbers."""
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"mypy failed to run:\n{done.stderr or done.stdout}")
    errors: Counter[str] = Counter()
    for line in done.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            errors[f"{m['path']}: {m['rest']}"] += 1
    return errors


def main() -> int:
    """Compare with (or, with ``--update``, rewrite) the baseline."""
    errors = current_errors()
    if "--update" in sys.argv[1:]:
        BASELINE.write_text("".join(f"{line}\n" for line in sorted(errors.elements())))
        print(f"{sum(errors.values())} errors written to {BASELINE}")
        return 0
    baseline = Counter(BASELINE.read_text().splitlines()) if BASELINE.exists() else Counter()
    new, fixed = errors - baseline, baseline - errors
    for line in sorted(new.elements()):
        print(f"new: {line}")
    if fixed:
        print(f"{sum(fixed.values())} baseline errors are fixed: run python tools/mypy_check.py --update")
    print(f"mypy: {sum(errors.values())} errors, baseline {sum(baseline.values())}, {sum(new.values())} new")
    return 1 if new or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
