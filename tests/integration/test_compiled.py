"""The compiled build (setup.py, ``INTAKE_COMPILE=1``) parses and judges exactly as the source.

mypyc compiles the same source, but a compiled module checks its annotations at run time and
some Python behaviour differs (native classes, integer types): this builds the modules of
``setup.COMPILED`` with the machine's compiler, makes sure they are the ones imported, and
compares every output with the pure source's on a corpus of generated, mutated, real and
unreadable uploads. It fails (never skips) where nothing can compile: the services' image is
built this way.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.build_compiled import ROOT, build
from bench.compare_checkouts import first_difference, outputs, uploads

IMPORTED = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
print(json.dumps({m: importlib.import_module(m).__file__ for m in sys.argv[2:]}))
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("compiled")
    build(dest)
    return dest


def modules() -> list[str]:
    """The modules setup.py compiles (read from it: it calls setup() only when run)."""
    spec = importlib.util.spec_from_file_location("intake_setup", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    return [p.removesuffix(".py").replace("/", ".") for p in setup.COMPILED]


def test_the_compiled_modules_are_the_ones_imported(compiled: Path) -> None:
    names = modules()
    assert "services.parser.tables" in names and "services.validator.model" in names
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED, str(compiled), *names], capture_output=True, text=True, check=True
    )
    files = json.loads(done.stdout)
    for name, file in files.items():
        assert Path(file).suffix == ".so", f"{name} was imported from {file}"
        assert Path(file).is_relative_to(compiled)


def test_the_compiled_build_parses_and_judges_as_the_source(compiled: Path) -> None:
    docs = uploads(40, 30)
    source, built = outputs([ROOT, compiled], docs)
    assert len(source) == len(built) == len(docs)
    differing = [k for k, (a, b) in enumerate(zip(source, built, strict=True)) if a != b]
    shown = [(docs[k][0], first_difference(json.loads(source[k]), json.loads(built[k]))) for k in differing[:3]]
    assert not differing, f"{len(differing)} of {len(docs)} uploads differ, first: {shown}"
    # the corpus holds reports and unreadable uploads alike
    assert any('"unreadable"' in line for line in source) and sum('"report"' in line for line in source) > 400
