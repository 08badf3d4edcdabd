"""The HTTP API: a thin FastAPI adapter over the library.

    POST /v1/briefs            documents and/or URLs -> a Brief (200) or a job (202)
    GET  /v1/jobs/{job_id}     a job's status, its brief ids and failures
    GET  /v1/briefs/{brief_id} a stored brief (API, CLI or daily run); ?format=md|json|html|slack
    GET  /v1/kinds             the kinds a request's "kind" can name, with their JSON Schemas
    GET  /healthz              liveness
    GET  /metrics              Prometheus text format
    GET  /openapi.json         the API's OpenAPI document

Errors are `{"error": {"type", "message"}}` with a one-line message, never a stack trace:
auth and limits answer 401/413/422/429, library errors map by kind (InputError 422,
ConfigError 500, ProviderError and ModelOutputError 502, ReplayMissError 503).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from summarizer import __version__
from summarizer.config import Settings
from summarizer.errors import (
    ConfigError,
    InputError,
    ModelOutputError,
    ProviderError,
    ReplayMissError,
    SummarizerError,
)
from summarizer.kinds import load_output, registry_for
from summarizer.schemas import Brief, DailyBrief, Timeline
from summarizer.service.auth import KEY_ID, AuthMiddleware, KeyRing
from summarizer.service.jobs import (
    RESTARTED,
    Briefer,
    BriefRequest,
    ErrorBody,
    JobAccepted,
    JobView,
)
from summarizer.service.limits import (
    ApiError,
    BodySizeLimit,
    RateLimiter,
    check_counts,
    check_urls,
    error_body,
    to_document,
)
from summarizer.service.metrics import CONTENT_TYPE, Metrics, MetricsMiddleware
from summarizer.service.settings import ServiceSettings
from summarizer.store import Store

log = logging.getLogger("summarizer.service")

OutputFormat = Literal["json", "md", "html", "slack"]
FormatQuery = Annotated[
    OutputFormat,
    Query(alias="format", description="json (the Brief), md, html, or slack (Block Kit)."),
]
_ID = Path(pattern=r"^[0-9a-f]{1,64}$", description="An id returned by this API.")
_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 404, 413, 422, 429, 500, 502, 503)
}


_bearer = HTTPBearer(auto_error=False, description="An API key from SUMMARIZER_API_KEYS.")


def _caller(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> str:
    # AuthMiddleware has checked the key already; this documents the scheme in OpenAPI
    # and hands the handler the caller's key id.
    return str(getattr(request.state, KEY_ID))


# Module level, not inside create_app: FastAPI resolves these annotations by name.
Caller = Annotated[str, Security(_caller)]


def status_for(exc: SummarizerError) -> int:
    if isinstance(exc, ReplayMissError):
        return 503
    if isinstance(exc, InputError):
        return 422
    if isinstance(exc, ConfigError):
        return 500  # the server is misconfigured; the message says how, and holds no secret
    if isinstance(exc, ProviderError | ModelOutputError):
        return 502
    return 500


def render(obj: BaseModel, fmt: str) -> Response:
    """One output (any kind, or a daily brief) in the asked format: the same renderers the
    CLI uses, with the media type from the one format table."""
    from summarizer.render import render_one
    from summarizer.render.formats import get_format

    body = render_one(obj, fmt)
    media_type = get_format(fmt).media_type
    if isinstance(body, str):
        return Response(body, media_type=media_type)
    return JSONResponse(body, media_type=media_type)


def create_app(settings: Settings, service_settings: ServiceSettings, store: Store) -> FastAPI:
    keys = KeyRing(service_settings.key_values())
    if not len(keys):
        raise ConfigError(
            "no API keys configured: set SUMMARIZER_API_KEYS=key1,key2 (or api_keys in the "
            "service config); the API does not run without authentication"
        )
    metrics = Metrics()
    briefer = Briefer(
        settings, store, metrics, allow_private_urls=service_settings.allow_private_urls
    )
    limits = service_settings

    from summarizer.queue import queue_for

    queue = queue_for(store)  # PostgreSQL: jobs go to `summarizer worker` processes

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if queue is not None:
            await queue.open()  # another replica's jobs are not this process's to fail
        else:
            failed = store.fail_unfinished_jobs(RESTARTED)
            if failed:
                log.warning("%d unfinished job(s) from an earlier run marked failed", failed)
        try:
            yield
        finally:
            await briefer.aclose()
            if queue is not None:
                await queue.close()

    app = FastAPI(
        title="summarizer",
        version=__version__,
        description="Grounded, structured briefs of news articles.",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.briefer = briefer
    app.state.metrics = metrics
    # Added innermost first: metrics see every answer, auth runs before the body is read.
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(
        AuthMiddleware,
        keys=keys,
        limiter=RateLimiter(limits.rate_limit_per_minute),
        on_error=metrics.observe_error,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    def fail(
        status: int, type_: str, message: str, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        metrics.observe_error(type_)
        return JSONResponse(error_body(type_, message), status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def _api_error(_r: Request, exc: ApiError) -> Response:
        return fail(exc.status, exc.type, exc.message, exc.headers)

    @app.exception_handler(SummarizerError)
    async def _library_error(_r: Request, exc: SummarizerError) -> Response:
        return fail(status_for(exc), type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> Response:
        err = exc.errors()[0] if exc.errors() else {}
        if err.get("type") == "json_invalid":
            return fail(400, "MalformedJSON", "request body is not valid JSON; check its syntax")
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "request"
        return fail(422, "InvalidRequest", f"{where}: {err.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> Response:
        names = {404: "NotFound", 405: "MethodNotAllowed"}
        type_ = names.get(exc.status_code, "HTTPError")
        return fail(exc.status_code, type_, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(_r: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc)
        return fail(500, "InternalError", "internal error; the server log has the details")

    @app.get("/healthz", tags=["ops"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    @app.post(
        "/v1/briefs",
        tags=["briefs"],
        summary="Brief documents or URLs",
        # A brief, or the output of the kind asked for (GET /v1/kinds has every schema).
        response_model=Brief | Timeline,
        responses={
            202: {"model": JobAccepted, "description": "Accepted as a background job."},
            **_ERRORS,
        },
    )
    async def create_brief(body: BriefRequest, key: Caller, fmt: FormatQuery = "json") -> Any:
        """One document of at most `sync_threshold_chars` and no URLs: the brief, at once.
        Anything else: 202 with a job id to poll; each document or URL gets its own brief."""
        check_counts(len(body.documents), len(body.urls), max_documents=limits.max_documents)
        check_urls(body.urls)
        docs = [
            to_document(
                d.text,
                index=i,
                title=d.title,
                url=d.url,
                max_chars=limits.max_document_chars,
                max_bytes=settings.max_input_bytes,
            )
            for i, d in enumerate(body.documents)
        ]
        kind = _check_kind(body.kind)
        if len(docs) == 1 and not body.urls and len(docs[0].text) <= limits.sync_threshold_chars:
            brief_id, brief = await briefer.brief(docs[0], "api", kind)
            response = render(brief, fmt)
            response.headers["Location"] = f"/v1/briefs/{brief_id}"
            response.headers["X-Brief-Id"] = brief_id
            return response
        if queue is not None:
            job_id = await queue.submit(briefer, body, owner=key)
        else:
            job_id = briefer.submit_job(body, docs, owner=key)
        accepted = JobAccepted(job_id=job_id, status="queued", status_url=f"/v1/jobs/{job_id}")
        return JSONResponse(
            accepted.model_dump(), status_code=202, headers={"Location": accepted.status_url}
        )

    @app.get(
        "/v1/jobs/{job_id}",
        tags=["briefs"],
        summary="A job's status",
        response_model=JobView,
        responses=_ERRORS,
    )
    async def get_job(key: Caller, job_id: Annotated[str, _ID]) -> JobView:
        view = briefer.job_view(job_id, owner=key)
        if view is None:
            raise ApiError(404, "NotFound", f"job {job_id}: not found; check the id")
        return view

    @app.get(
        "/v1/briefs/{brief_id}",
        tags=["briefs"],
        summary="A stored brief",
        response_model=Brief | Timeline | DailyBrief,
        responses=_ERRORS,
    )
    async def get_brief(
        _key: Caller, brief_id: Annotated[str, _ID], fmt: FormatQuery = "json"
    ) -> Any:
        found = store.get_brief(brief_id)
        if found is None:
            raise ApiError(404, "NotFound", f"brief {brief_id}: not found; check the id")
        return render(load_output(*found, registry_for(settings)), fmt)

    def _check_kind(name: str) -> str:
        registry = registry_for(settings)
        if name not in registry or registry.get(name).takes != "article":
            known = ", ".join(k.name for k in registry if k.takes == "article")
            raise ApiError(422, "InvalidRequest", f"kind: {name!r} unknown; use one of {known}")
        return name

    @app.get(
        "/v1/kinds",
        tags=["briefs"],
        summary="The kinds of output",
        response_model=list[KindView],
        responses=_ERRORS,
    )
    async def list_kinds(_key: Caller) -> list[KindView]:
        """Every kind a request's `"kind"` can name, with the JSON Schema of its output."""
        registry = registry_for(settings)
        return [
            KindView(
                name=k.name,
                description=k.description,
                prompt_name=registry.prompt(k).name,
                prompt_version=registry.prompt(k).version,
                json_schema=k.json_schema(),
            )
            for k in registry
            if k.takes == "article"
        ]

    return app


class KindView(BaseModel):
    name: str = Field(description="What a request's `kind` names.")
    description: str = Field(description="What it makes.")
    prompt_name: str = Field(description="Its prompt template.")
    prompt_version: str = Field(description="The template's version.")
    json_schema: dict[str, Any] = Field(description="JSON Schema of its output.")
