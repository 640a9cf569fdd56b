"""Build the compiled hot path (setup.py, ``INTAKE_COMPILE=1``) into a copy of this checkout.

    python bench/build_compiled.py DEST

DEST gets this checkout's package sources, tests and benchmarks, with the modules of
``setup.COMPILED`` compiled in place by mypyc (about a minute). Run a benchmark from there to
measure the compiled build (``python DEST/bench/parse_bench.py``: the benchmarks put their own
checkout first on the path), and compare it with the pure source upload by upload with
``python bench/compare_checkouts.py DEST``. The working tree itself is never compiled: an
extension module left beside a ``.py`` would shadow every later edit of it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ["contracts", "services", "tests", "bench", "samples", "pyproject.toml", "setup.py", "README.md"]


def build(dest: Path) -> None:
    """Copy the checkout's sources to ``dest`` and compile them there."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyc", "out")
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest / name)
    env = {**os.environ, "INTAKE_COMPILE": "1"}
    done = subprocess.run(
        [sys.executable, "setup.py", "--quiet", "build_ext", "--inplace"],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        needs = "mypyc, gcc and Python's headers needed"
        raise RuntimeError(f"the compiled build failed ({needs}):\n{done.stderr[-3000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dest", type=Path)
    args = ap.parse_args()
    build(args.dest.resolve())
    print(f"compiled build in {args.dest}")


if __name__ == "__main__":
    main()
