"""The JSON Schema files in schemas/, generated from the Pydantic models.

`python -m summarizer.cli.schema_export schemas/` rewrites them; a test fails when the checked-in
files drift from the models, so a contract change is always a visible diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from summarizer.core.schemas import (
    SCHEMA_VERSION,
    Brief,
    BriefContent,
    DailyBrief,
    Timeline,
    TimelineContent,
)
from summarizer.eval.gold import GoldFile

# The built-in contracts. A plugin's or a file's kind prints its own with
# `summarizer schema KIND` (and GET /v1/kinds), from the registry.
SCHEMAS: dict[str, type[BaseModel]] = {
    "brief": Brief,
    "brief-content": BriefContent,
    "daily-brief": DailyBrief,
    "timeline": Timeline,
    "timeline-content": TimelineContent,
    "gold": GoldFile,
}


def filename(name: str) -> str:
    return f"{name}.v{SCHEMA_VERSION}.schema.json"


def schema_json(name: str) -> str:
    schema = SCHEMAS[name].model_json_schema()
    schema["$id"] = filename(name)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(directory: str) -> None:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for name in SCHEMAS:
        (out / filename(name)).write_text(schema_json(name), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "schemas")
