"""What the loopback server's "model" writes: scripted replies, and answers made from the
request itself (a grounded brief, the --mode auto probe's code word)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from summarizer.llm import probe


@dataclass
class Reply:
    """One scripted answer. `payload` is what the model 'writes' (dict -> JSON, str -> as is)."""

    payload: Any = None
    status: int = 200
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None  # send exactly this body (for broken answers)
    delay: float = 0.0
    prose: str | None = None  # the model answers in plain text, whatever the mode asked


Responder = Callable[[dict[str, Any]], Reply]


def probe_reply(request: dict[str, Any], lowercase: bool = False) -> Reply | None:
    """The answer to summarizer's --mode auto probe: the code word, if the 'model' saw the
    message that holds it (the request it is given has no system messages when they are
    dropped)."""
    texts = [str(m.get("content") or "") for m in request.get("messages", [])]
    if not any(probe.MARKER in t for t in texts):
        return None
    seen = any(probe.CODE_WORD in t.split(probe.MARKER)[0] for t in texts)
    word = probe.CODE_WORD.lower() if lowercase else probe.CODE_WORD
    return Reply({"word": word if seen else "I was not told a code word."})


_FENCE = re.compile(r"<<<(ARTICLE-[0-9a-f]+) id=(\w+)[^\n]*>>>\n(.*?)\n<<<END \1>>>", re.DOTALL)


def articles_in(request: dict[str, Any]) -> dict[str, str]:
    """The articles (id -> text) inside a request's user messages."""
    found: dict[str, str] = {}
    for m in request.get("messages", []):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            for _fence, sid, text in _FENCE.findall(m["content"]):
                found.setdefault(sid, text)
    return found


def first_sentence(text: str, limit: int = 160) -> str:
    # The first real paragraph: a short first line is usually the headline.
    para = next((p.strip() for p in text.split("\n") if len(p.strip()) > 60), text.strip())
    end = para.find(". ")
    sentence = para[: end + 1] if 0 < end < limit else para[:limit]
    return sentence.strip()


def _notes(docs: dict[str, str]) -> dict[str, dict[str, Any]] | None:
    """The story prompt sends each article's brief as JSON notes; the brief prompt, text."""
    try:
        return {sid: json.loads(text) for sid, text in docs.items()}
    except ValueError:
        return None


def _story_brief(notes: dict[str, dict[str, Any]]) -> Reply:
    quotes = {
        sid: next((ev["quote"] for row in n.get("stances", []) for ev in row["evidence"]), None)
        for sid, n in notes.items()
    }
    rows = [
        {
            "actor": f"Outlet {sid}",
            "issue": "Main claim",
            "position": "Reports the opening claim.",
            "stance": "neutral",
            "evidence": [{"quote": q, "source_id": sid}],
        }
        for sid, q in quotes.items()
        if q
    ]
    claims = [{"source_id": sid, "claim": "Says so.", "quote": q} for sid, q in quotes.items() if q]
    first = next(iter(notes.values()))
    return Reply(
        {
            "title": f"Story: {first.get('title', '')}"[:120],
            "summary": " ".join(n.get("summary", "") for n in notes.values())[:500],
            "key_points": [kp for n in notes.values() for kp in n.get("key_points", [])][:6],
            "stances": rows,
            "open_questions": [q for n in notes.values() for q in n.get("open_questions", [])][:3],
            "disagreements": [{"topic": "What happened", "kind": "fact", "claims": claims[:2]}]
            if len(claims) >= 2
            else [],
        }
    )


def grounded_brief(request: dict[str, Any]) -> Reply:
    """A valid brief built from the request itself, so its quotes are grounded: from the
    article's first sentence, or for a story, from the notes' own quotes."""
    docs = articles_in(request)
    notes = _notes(docs) if docs else None
    if notes:
        return _story_brief(notes)
    sid, text = next(iter(docs.items()), ("S1", "No article text was found in the request."))
    quote = first_sentence(text)
    return Reply(
        {
            "title": f"Brief: {quote[:60]}",
            "summary": quote,
            "key_points": [quote],
            "stances": [
                {
                    "actor": "The article",
                    "issue": "Main claim",
                    "position": "Reports the opening claim.",
                    "stance": "neutral",
                    "evidence": [{"quote": quote, "source_id": sid}],
                }
            ],
            "open_questions": [
                {
                    "question": "What happens next?",
                    "why_it_matters": "Readers need to know the follow-up.",
                    "what_would_resolve_it": "A later report.",
                }
            ],
        }
    )
