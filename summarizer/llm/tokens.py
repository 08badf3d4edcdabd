"""Token counts without a tokenizer download.

tiktoken fetches its BPE tables on first use, which fails offline (CI, air-gapped
servers, the replay demo). Budgets and chunking only need a safe estimate, so this counts
UTF-8 bytes: about 4 bytes a token for English with OpenAI's tokenizers, and about one
token per character for CJK (3 bytes a character) where the same ratio is conservative.
Reported usage always comes from the endpoint's own `usage` numbers, never from here.
"""

from __future__ import annotations

BYTES_PER_TOKEN = 4


def estimate(text: str) -> int:
    return estimate_bytes(len(text.encode("utf-8")))


def estimate_bytes(size: int) -> int:
    """Tokens in `size` bytes of UTF-8 text (rounded up)."""
    return -(-max(size, 0) // BYTES_PER_TOKEN)


def split_paragraphs(text: str, max_tokens: int) -> list[str]:
    """Split at paragraph (then line, then sentence) boundaries into chunks under max_tokens.

    The chunks are exact substrings of the text, so quotes grounded in a chunk are
    grounded in the article.
    """
    if estimate(text) <= max_tokens:
        return [text]
    limit = max_tokens * BYTES_PER_TOKEN
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if current and len((current + piece).encode("utf-8")) > limit:
            chunks.append(current)
            current = ""
        current += piece
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs with their trailing blank lines; an over-long one is cut at sentences."""
    out: list[str] = []
    for para in text.splitlines(keepends=True):
        if len(para.encode("utf-8")) <= limit:
            out.append(para)
            continue
        sentence = ""
        for part in para.replace(". ", ".\x00").split("\x00"):
            if sentence and len((sentence + part).encode("utf-8")) > limit:
                out.append(sentence)
                sentence = ""
            sentence += part
            while len(sentence.encode("utf-8")) > limit:  # no sentence breaks at all
                cut = limit // 4
                out.append(sentence[:cut])
                sentence = sentence[cut:]
        if sentence:
            out.append(sentence)
    return out
