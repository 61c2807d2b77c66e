"""The hostile-input suite's figures: inputs tried, one-line errors, tracebacks, peak memory,
longest run.

    python bench/hostile_report.py

Runs ``tests/test_hostile.py`` (its slow cases too: the largest inputs, each in its own
process) and prints the summary it writes.  Exits non-zero when a test fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tgscope-hostile-") as folder:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command += ["--basetemp", folder, "tests/test_hostile.py"]
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr)
        summary = json.loads((Path(folder) / "hostile_summary.json").read_text())
    largest = summary.pop("largest inputs, each in its own process", {})
    width = max(len(name) for name in summary)
    for name, value in summary.items():
        print(f"{name:<{width}}  {value}")
    if largest:
        print("largest inputs, each in its own process:")
        for name, line in largest.items():
            print(f"  {name}: {line}")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
