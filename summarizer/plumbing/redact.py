"""Redaction: what the project prints about URLs and foreign text never carries a secret.

One place, used by every message that names an endpoint or repeats what a server said:
- `url(u)` drops the userinfo (`user:KEY@`) and replaces the value of every query parameter
  whose name looks like a credential (`api-key`, `token`, `sig`, ...).
- `text(s, secrets)` removes the given secrets, whole or any cut-off prefix of them that is
  long enough to identify a key, and anything shaped like a bearer token or provider key
  (`Bearer ...`, `sk-...`, `xoxb-...`), including one cut short by a server's truncation,
  or a Slack webhook path (`/services/T.../B.../...`); every URL in it goes through `url()`.
- `LogFilter` and `install()`: every log record, third parties' and their tracebacks
  included, goes through `text()` before a handler writes it.
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
    (
        re.compile(r"hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9/]+"),
        rf"hooks.slack.com/\1/{MASK}",
    ),
    # A webhook's path is its credential, and a server's error text repeats it without the
    # host (`no_service: /services/T000/B000/XXXX`), so the shape alone is enough.
    (re.compile(r"\bservices/T[A-Za-z0-9]+/B[A-Za-z0-9]+(?:/[A-Za-z0-9]*)?"), f"services/{MASK}"),
    (re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]+@"), ""),
    (
        re.compile(
            r"(?i)([?&][^=&\s]*(?:key|token|secret|signature|sig|auth|password)[^=&\s]*=)[^&\s\"']+"
        ),
        rf"\1{MASK}",
    ),
]
# Any URL in a text; quotes and brackets around it are not part of it.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
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
    s = _URL.sub(_url_in_text, s)
    for shape, replacement in _SHAPES:
        s = shape.sub(replacement, s)
    return s


def _url_in_text(match: re.Match[str]) -> str:
    found = match.group(0)
    try:
        parts = urlsplit(found)
    except ValueError:
        return found
    secret_query = any(
        SECRET_PARAM.search(k) for k, _ in parse_qsl(parts.query, keep_blank_values=True)
    )
    # Rewritten only when it carries a credential, so other URLs read as they were.
    return url(found) if "@" in parts.netloc or secret_query else found


class LogFilter(logging.Filter):
    """Redacts every record a handler writes: libraries log what servers answered (instructor
    logs each failed attempt with the endpoint's body, an SDK's traceback names the URL it
    called), and none of it may carry a key. The record's message is formatted once and
    redacted; its traceback and stack are formatted here and redacted too (a formatter
    uses `exc_text` when it is set)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = text(record.exc_text)
        if record.stack_info:
            record.stack_info = text(record.stack_info)
        return True


def install() -> None:
    """Put a LogFilter on every handler configured so far: the root's (the CLI's, the
    service's) and those third parties attach to their own loggers (uvicorn's), so no
    record reaches a stream unredacted. Call it again after a library configures logging."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        lg
        for lg in list(logging.getLogger().manager.loggerDict.values())
        if isinstance(lg, logging.Logger)
    ]
    for lg in loggers:
        for handler in lg.handlers:
            if not any(isinstance(f, LogFilter) for f in handler.filters):
                handler.addFilter(LogFilter())
