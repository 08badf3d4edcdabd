"""Re-make seeds/recordings from the hand-written answers in seeds/fixtures/.

No model is involved: the loopback test server serves each fixture, and the recorder
marks every file it writes origin=fixture, so a brief replayed from them says it is not
model output. Run after changing a prompt, the schema or a default setting:

    python seeds/record_fixtures.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from summarizer.config import load_settings
from summarizer.ingest import read_path
from summarizer.pipeline import brief_documents
from summarizer.testing.openai_server import FakeOpenAI, Reply

SEEDS = Path(__file__).resolve().parent


def fixture_for(article: Path) -> dict:
    data = json.loads((SEEDS / "fixtures" / f"{article.stem}.json").read_text(encoding="utf-8"))
    data.pop("_comment", None)
    return data


def main() -> None:
    out = SEEDS / "recordings"
    shutil.rmtree(out, ignore_errors=True)
    articles = sorted(
        p for p in SEEDS.glob("*.txt") if (SEEDS / "fixtures" / f"{p.stem}.json").exists()
    )
    for article in articles:
        payload = fixture_for(article)
        with FakeOpenAI(lambda _req, payload=payload: Reply(payload)) as server:
            # Only the endpoint differs from a default run; the recording key ignores it.
            settings = load_settings(base_url=server.base_url, record_dir=out)
            doc = read_path(str(article), max_bytes=settings.max_input_bytes)
            asyncio.run(brief_documents([doc], settings))
        print(f"recorded {article.name}")


if __name__ == "__main__":
    main()
