"""Redaction: what the project prints about URLs and foreign text never carries a secret.

One place, used by every message that names an endpoint or repeats what a server said:
- `url(u)` drops the userinfo (`user:KEY@`) and replaces the value of every query parameter
  whose name looks like a credential (`api-key`, `token`, `sig`, ...).
- `text(s, secrets)` removes the given secrets, whole or any cut-off prefix of them that is
  long enough to identify a key, and anything shaped like a bearer token or provider key
  (`Bearer ...`, `sk-...`, `xoxb-...`), including one cut short by a server's truncation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "[REDACTED]"
# Query parameter names that carry credentials (api_key, api-key, access_token, sig, ...).
SECRET_PARAM = re.compile(r"key|token|secret|signature|^sig$|auth|password|pass$|pwd", re.I)
# Shapes of credentials, matched even when a server cut them short: a bearer token, OpenAI
# and Anthropic style keys, Slack tokens and webhook paths, basic-auth userinfo in a URL.
_SHAPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{3,}"), rf"\1 {MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{3,}"), MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{3,}"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{3,}"), MASK),
    (re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9/]+"), f"hooks.slack.com/services/{MASK}"),
    (re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]+@"), ""),
    (
        re.compile(
            r"(?i)([?&][^=&\s]*(?:key|token|secret|signature|sig|auth|password)[^=&\s]*=)[^&\s\"']+"
        ),
        rf"\1{MASK}",
    ),
]
# A cut-off secret is still a secret: any prefix this long of a known secret is removed.
_MIN_PREFIX = 6


def url(u: str | None) -> str:
    """`u` without userinfo and with credential-like query values masked."""
    if not u:
        return ""
    try:
        parts = urlsplit(u)
    except ValueError:
        return text(u)
    netloc = parts.netloc.rpartition("@")[2] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if SECRET_PARAM.search(k) else v) for k, v in pairs], safe="[]")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def text(s: str, secrets: Iterable[str | None] = ()) -> str:
    """`s` with the given secrets (whole or cut off) and credential shapes masked."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        s = s.replace(secret, MASK)
        # A server that shortens its echo of a key leaves a prefix of it: remove the longest.
        for n in range(len(secret) - 1, _MIN_PREFIX - 1, -1):
            if secret[:n] in s:
                s = s.replace(secret[:n], MASK)
                break
    for shape, replacement in _SHAPES:
        s = shape.sub(replacement, s)
    return s


class LogFilter(logging.Filter):
    """Redacts every record a handler writes: libraries log what servers answered (instructor
    logs each failed attempt with the endpoint's body), and none of it may carry a key.
    Attach it to a handler; the record's message is formatted once and redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
