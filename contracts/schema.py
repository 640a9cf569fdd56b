"""JSON Schema of the contracts, generated from the models into docs/schema/.

python -m contracts.schema          # write docs/schema/*.json
python -m contracts.schema --check  # exit 1 when the files are stale (tests do this)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from contracts.events import (
    DeadLetter,
    NoticeDelivered,
    NoticeFailed,
    NoticeRequested,
    ReportJudged,
    ReportParsed,
    SubmissionReceived,
)
from contracts.generated import write_or_check
from contracts.notice import Notice, WebhookBody
from contracts.report import ParsedReport
from contracts.verdict import Verdict

MODELS: dict[str, type[BaseModel]] = {
    "parsed_report": ParsedReport,
    "verdict": Verdict,
    "notice": Notice,
    "submission_received": SubmissionReceived,
    "report_parsed": ReportParsed,
    "report_judged": ReportJudged,
    "notice_delivered": NoticeDelivered,
    "notice_requested": NoticeRequested,
    "notice_failed": NoticeFailed,
    "webhook_body": WebhookBody,
    "dead_letter": DeadLetter,
}
OUT = Path(__file__).resolve().parent.parent / "docs" / "schema"


def render() -> dict[str, str]:
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(mode="serialization"), ensure_ascii=False, indent=2)
        + "\n"
        for name, model in MODELS.items()
    }


def main(argv: list[str]) -> int:
    return write_or_check({OUT / name: text for name, text in render().items()}, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
