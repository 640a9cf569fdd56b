"""``intake parse`` as scripts use it: the JSON shape of interfaces.md, exit statuses, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SEEDS

INTAKE = [sys.executable, "-m", "services.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INTAKE, *args], capture_output=True, text=True, timeout=60)


def test_parse_json_prints_one_parsed_report_a_line() -> None:
    result = run("parse", "--json", *map(str, SEEDS))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(SEEDS)
    report = json.loads(lines[1])
    assert {"office", "year", "template", "title", "signed_on", "format", "sections", "tables"} <= set(report)
    assert set(report["tables"]) == {"t2", "t3", "t4"}
    cell = report["tables"]["t2"]["procurement"]["amount"]
    assert cell["raw"] == "138.31万元" and cell["value"] == "138.31" and cell["line"] == 88
    assert report["tables"]["t3"]["new_received"]["total"]["value"] == 0
    assert report["signed_on"] == "2021-01-28"
    assert set(report["sections"]["overview"]) >= {"heading", "text", "line"}


def test_parse_summary_names_tables_and_uncertain_rows() -> None:
    result = run("parse", str(SEEDS[2]))
    assert result.returncode == 0, result.stderr
    assert "西关街道" in result.stdout and "t3" in result.stdout
    assert "6 values where the template has 7 columns" in result.stdout


def test_unopenable_file_exits_2_with_one_sentence(tmp_path: Path) -> None:
    result = run("parse", str(tmp_path / "missing.txt"))
    assert result.returncode == 2
    assert "cannot open" in result.stderr and "Traceback" not in result.stderr


def test_unreadable_upload_exits_1_and_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = run("parse", "--json", str(bad), str(SEEDS[0]))
    assert result.returncode == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["error"] == {"rule": "DOC-UNREADABLE", "reason": "corrupt", "detail": first["error"]["detail"]}
    assert second["year"] == 2020


def test_help_works_for_every_command() -> None:
    assert run("--help").returncode == 0
    assert "--json" in run("parse", "--help").stdout
