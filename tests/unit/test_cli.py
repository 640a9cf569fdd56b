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


def test_check_exit_status_follows_the_verdicts() -> None:
    assert run("check", str(SEEDS[0]), str(SEEDS[3])).returncode == 0
    assert run("check", str(SEEDS[0]), str(SEEDS[4])).returncode == 1


def test_check_json_is_source_report_verdict() -> None:
    result = run("check", "--json", "--office", "沈阳市辽中区蒲西街道办事处", "--year", "2020", str(SEEDS[4]))
    assert result.returncode == 1
    line = json.loads(result.stdout)
    assert set(line) == {"source", "report", "verdict"}
    assert line["verdict"]["status"] == "rejected"
    finding = next(f for f in line["verdict"]["findings"] if f["rule"] == "T3-RESULT-TOTAL")
    assert {"rule", "severity", "location", "expected", "actual", "message_zh", "message_en"} <= set(finding)
    assert finding["location"]["table"] == "t3" and finding["location"]["column"] in ("natural_person", "total")
    assert not any(
        f["rule"].startswith("DOC-OFFICE") or f["rule"] == "DOC-YEAR-MISMATCH" for f in line["verdict"]["findings"]
    )


def test_check_declared_office_and_year_are_checked() -> None:
    result = run("check", "--json", "--office", "城关镇人民政府", "--year", "2021", str(SEEDS[0]))
    rules = {f["rule"] for f in json.loads(result.stdout)["verdict"]["findings"]}
    assert {"DOC-OFFICE-MISMATCH", "DOC-YEAR-MISMATCH"} <= rules and result.returncode == 1


def test_check_notice_prints_what_the_office_receives() -> None:
    result = run("check", "--notice", str(SEEDS[4]))
    assert "关于退回" in result.stdout and "如何修改和重新报送" in result.stdout


def test_check_unreadable_upload_is_a_rejection(tmp_path: Path) -> None:
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    result = run("check", "--json", str(bad))
    line = json.loads(result.stdout)
    assert result.returncode == 1 and line["report"] is None
    assert [f["rule"] for f in line["verdict"]["findings"]] == ["DOC-UNREADABLE"]


def test_check_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("check", "--lang", "fr", str(SEEDS[0])).returncode == 2
    assert run("check", str(tmp_path / "nope.pdf")).returncode == 2


def test_rules_lists_every_rule() -> None:
    from services.validator import RULES

    rows = json.loads(run("rules", "--json").stdout)
    assert [r["id"] for r in rows] == [r.id for r in RULES]
    assert all(r["message_zh"] and r["message_en"] and r["severity"] in ("error", "warning") for r in rows)
    table = run("rules").stdout
    assert all(r.id in table for r in RULES)
