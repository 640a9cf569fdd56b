"""The optional compiled build: ``INTAKE_COMPILE=1`` compiles the hot path with mypyc.

Everything else about the package is in pyproject.toml. Without ``INTAKE_COMPILE=1`` (the
default, and what an editable install for development should be) the package is pure Python.
With it, the modules below are compiled to C extensions from the same source (the services'
image is built so, see Dockerfile); Python imports an extension before the ``.py`` beside it.
Never compile into a working tree you edit: a stale extension would shadow the edited source
(``bench/build_compiled.py`` builds into a copy).

``tests/integration/test_compiled.py`` builds these modules and checks that they parse and judge
a corpus of uploads exactly as the pure source does.
"""

from __future__ import annotations

import os

from setuptools import setup

# The parser's and the validator's pure cores: what runs for every upload. Not the services
# (asyncio, FastStream), not .docx/PDF (their time is in python-docx and pdfminer), not the
# pydantic models of contracts/report.py (pydantic needs them as Python classes; the plain-dict
# shapes the parser makes by the hundred are in contracts/cells.py).
COMPILED = [
    "contracts/cells.py",
    "contracts/template.py",
    "services/parser/core.py",
    "services/parser/digits.py",
    "services/parser/document.py",
    "services/parser/limits.py",
    "services/parser/memo.py",
    "services/parser/numbers.py",
    "services/parser/structure.py",
    "services/parser/tables.py",
    "services/parser/formats/grid.py",
    "services/parser/formats/html.py",
    "services/parser/formats/sniff.py",
    "services/parser/formats/text.py",
    "services/validator/checks.py",
    "services/validator/core.py",
    "services/validator/model.py",
    "services/validator/narrative.py",
    "services/validator/rules.py",
    "services/validator/sums.py",
]

if __name__ == "__main__":  # (tests read COMPILED by importing this file)
    ext_modules = []
    if os.environ.get("INTAKE_COMPILE") == "1":
        try:
            from mypyc.build import mypycify
        except ImportError as exc:  # an isolated build has only setuptools: build beside the dependencies
            raise SystemExit(
                "INTAKE_COMPILE=1 needs mypy (mypyc) and the package's dependencies where it builds: "
                "pip install . mypy, then INTAKE_COMPILE=1 pip wheel --no-deps --no-build-isolation ."
            ) from exc

        ext_modules = mypycify(COMPILED, opt_level="3")

    setup(ext_modules=ext_modules)
