"""The HTTP API: `create_app(settings, service_settings, store)` gives the FastAPI app.

Imported only by `summarizer serve` and `summarizer slack` (and tests): FastAPI and
uvicorn stay out of the CLI's start-up.
"""

from __future__ import annotations

from summarizer.service.app import create_app
from summarizer.serving.settings import ServiceSettings, load_service_settings

__all__ = ["ServiceSettings", "create_app", "load_service_settings"]
