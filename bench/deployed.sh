#!/usr/bin/env bash
# The benchmarks as the services run in their image: the compiled build (setup.py,
# INTAKE_COMPILE=1) on a CPython built with PGO and LTO.
#
#     bench/deployed.sh [PYTHON] [-- BENCH ARGS...]
#
# The image runs python:3.11-slim (PGO+LTO). Docker is not on every machine, so PYTHON stands in
# for it (default: Debian's /usr/bin/python3.11, also a PGO+LTO build); this machine's `python3`
# may not be one (pyenv's builds are not, unless asked: see bench/README.md). Makes a venv in
# /tmp/intake-deployed-venv and the compiled build in /tmp/intake-deployed, then runs
# parse_bench.py (BENCH ARGS, default: the light shapes) and validate_bench.py there, on one core.
set -euo pipefail
cd "$(dirname "$0")/.."

python=/usr/bin/python3.11
if [ "$#" -gt 0 ] && [ "$1" != "--" ]; then python=$1; shift; fi
[ "${1:-}" = "--" ] && shift
args=("$@")
[ "${#args[@]}" -gt 0 ] || args=(--n 300 --repeat 5 --shape seeds --shape pdf_text --shape word_text
    --shape word_text_nbsp --shape markdown --shape html --shape html_flat)

venv=/tmp/intake-deployed-venv
build=/tmp/intake-deployed
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet -e '.[dev]'
rm -rf "$build"
"$venv/bin/python" bench/build_compiled.py "$build"
"$venv/bin/python" -c 'import sys; print("CPython", sys.version.split()[0], "from", sys._base_executable)'
taskset -c 1 "$venv/bin/python" "$build/bench/parse_bench.py" "${args[@]}"
taskset -c 1 "$venv/bin/python" "$build/bench/validate_bench.py"
