"""Access logs without credentials.

uvicorn's access log prints each request line with its query string. A client that puts
a key in the URL (`?api_key=...`, `?token=...`) would leave it in the log for anyone who
reads it. The filter here rewrites that line's path through `redact.url` before any
handler sees it. The Authorization header is never logged by uvicorn.
"""

from __future__ import annotations

import logging

from summarizer.plumbing import redact

ACCESS_LOGGER = "uvicorn.access"


class RedactQuery(logging.Filter):
    """Masks credential-like query parameters and userinfo in uvicorn's access lines,
    whose arguments are (client, method, path with query, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact.url(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger, once, and redact every handler
    (uvicorn's own included: it logs an app's tracebacks). Called at app start-up, after
    uvicorn has configured its loggers."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQuery) for f in logger.filters):
        logger.addFilter(RedactQuery())
    redact.install()
