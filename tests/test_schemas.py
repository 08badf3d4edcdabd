from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from summarizer.cli.schema_export import SCHEMAS, filename, schema_json
from summarizer.core.schemas import BriefContent, Stance

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_checked_in_schema_matches_the_models(name: str) -> None:
    path = SCHEMA_DIR / filename(name)
    assert path.read_text(encoding="utf-8") == schema_json(name), (
        f"{path.name} drifted from the models: run `python -m summarizer.cli.schema_export schemas` "
        "and bump SCHEMA_VERSION if a field changed"
    )


def test_every_field_has_a_description() -> None:
    schema = json.loads(schema_json("brief"))
    for model_name, model in [("Brief", schema), *schema["$defs"].items()]:
        for field, spec in model.get("properties", {}).items():
            assert spec.get("description"), f"{model_name}.{field} has no description"


def test_stance_labels_and_extra_fields() -> None:
    assert [s.value for s in Stance] == ["supports", "opposes", "mixed", "neutral", "unclear"]
    base = {"title": "t", "summary": "s", "key_points": [], "stances": [], "open_questions": []}
    BriefContent.model_validate(base)
    with pytest.raises(ValidationError):
        BriefContent.model_validate({**base, "verdict": "x"})
    row = {
        "actor": "a",
        "issue": "i",
        "position": "p",
        "stance": "loves",
        "evidence": [{"quote": "q", "source_id": "S1"}],
    }
    with pytest.raises(ValidationError):
        BriefContent.model_validate({**base, "stances": [row]})


def test_public_api_is_complete() -> None:
    import summarizer

    for name in summarizer.__all__:
        assert getattr(summarizer, name) is not None
    assert set(summarizer._EXPORTS) | {"__version__"} == set(summarizer.__all__)
