"""The loopback server's `/v1/embeddings`: deterministic vectors (words hashed into 64
buckets, not a model's meaning), with usage, in OpenAI's answer shape."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from summarizer.testing.quirks import CHARS_PER_TOKEN

EMBEDDING_DIMENSIONS = 64


def embed_text(text: str) -> list[float]:
    """A deterministic stand-in for an embedding: the text's words hashed into 64 signed
    buckets, normalised, so texts sharing words point the same way (not a model's meaning)."""
    vec = [0.0] * EMBEDDING_DIMENSIONS
    for word in re.findall(r"\w{3,}", text.lower()):
        h = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big")
        vec[h % EMBEDDING_DIMENSIONS] += 1.0 if h & 1 << 31 else -1.0
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [round(x / norm, 6) for x in vec]


def embeddings_body(request: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's /v1/embeddings answer for `request` (input: a string or a list of them)."""
    texts = request.get("input") or []
    if isinstance(texts, str):
        texts = [texts]
    tokens = sum(max(1, len(str(t)) // CHARS_PER_TOKEN) for t in texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": embed_text(str(t))}
            for i, t in enumerate(texts)
        ],
        "model": request.get("model", "text-embedding-3-small"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
