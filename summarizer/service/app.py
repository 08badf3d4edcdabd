"""The HTTP API: a thin FastAPI adapter over the library.

    POST /v1/briefs            documents and/or URLs -> a Brief (200) or a job (202)
    GET  /v1/jobs/{job_id}     a job's status, its brief ids and failures
    GET  /v1/briefs/{brief_id} a brief this key made (admin keys: any API brief; briefs made
                               outside the API only if `local_briefs` allows); ?format=...
    GET  /v1/kinds             the kinds a request's "kind" can name, with their JSON Schemas
    GET  /healthz              liveness
    GET  /metrics              Prometheus text format
    GET  /openapi.json         the API's OpenAPI document

Errors are `{"error": {"type", "message"}}` with a one-line message, never a stack trace:
auth and limits answer 401/413/422/429/503, library errors map by kind (answers.py:
InputError 422, ConfigError 500, ProviderError and ModelOutputError 502, ReplayMissError
503) with a short reason; what the model endpoint said goes to the server log only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
from fastapi import FastAPI, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from summarizer import __version__
from summarizer.config import Settings
from summarizer.core.kinds import KindRegistry, LiveKinds, load_output
from summarizer.core.schemas import Brief, DailyBrief, LedgerQuestion, Timeline
from summarizer.errors import ConfigError, InputError, SummarizerError
from summarizer.render import formats as _formats
from summarizer.serving.answers import log_failure, public_message, status_for
from summarizer.serving.auth import KEY_ID, AuthMiddleware, KeyRing, check_key_strength
from summarizer.serving.jobs import (
    Briefer,
    BriefRequest,
    ErrorBody,
    JobAccepted,
    JobView,
    KindView,
    kind_views,
)
from summarizer.serving.limits import (
    ApiError,
    BodySizeLimit,
    SyncQueue,
    error_body,
    parse_brief_request,
)
from summarizer.serving.logs import redact_access_log
from summarizer.serving.metrics import CONTENT_TYPE, Metrics, MetricsMiddleware
from summarizer.serving.settings import ServiceSettings
from summarizer.serving.shared_limits import limiters_for
from summarizer.store import Store

# A story id of a daily brief (continuity.py).
_STORY_ID = r"^st-[0-9a-f]{1,32}$"

log = logging.getLogger("summarizer.service")

# The one format table (render/formats.py): a format is offered here iff it is there.
if TYPE_CHECKING:
    OutputFormat = str
else:
    OutputFormat = Literal[_formats.NAMES]
FormatQuery = Annotated[
    OutputFormat,
    Query(
        alias="format",
        description=", ".join(f"{f.name} ({f.description})" for f in _formats.FORMATS.values()),
    ),
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
    keys = KeyRing(service_settings.key_values(), service_settings.admin_key_values())
    if not len(keys):
        raise ConfigError(
            "no API keys configured: set SUMMARIZER_API_KEYS=key1,key2 (or api_keys in the "
            "service config); the API does not run without authentication"
        )
    check_key_strength(service_settings.key_values(), "SUMMARIZER_API_KEYS")
    check_key_strength(service_settings.admin_key_values(), "SUMMARIZER_ADMIN_KEYS")
    metrics = Metrics()
    briefer = Briefer(
        settings, store, metrics, allow_private_urls=service_settings.allow_private_urls
    )
    astore = briefer.astore  # every store call below goes through it, off the loop
    limits = service_settings
    # Loaded here (a broken kind refuses to start); reloaded off the event loop as
    # templates change, the last good registry serving while a template is broken.
    live_kinds = LiveKinds(settings)
    sync_queue = SyncQueue(settings.concurrency, limits.max_sync_waiting)

    from summarizer.store.tasks import queue_for

    queue = queue_for(store)  # PostgreSQL: jobs go to `summarizer worker` processes

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        redact_access_log()  # here: uvicorn has configured its loggers by now
        live_kinds.watch()  # the library's registry_for reads ours, never loads on the loop
        if queue is not None:
            await queue.open()  # jobs run on `summarizer worker`s, which hold their own leases
        else:
            await briefer.start_jobs(limits.job_lease_seconds)
        try:
            yield
        finally:
            await briefer.aclose()
            if queue is not None:
                await queue.close()
            live_kinds.unwatch()

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
    # Shared through the database on PostgreSQL, where several processes serve the keys.
    requests_limiter, failures_limiter = limiters_for(
        astore, limits.rate_limit_per_minute, limits.auth_failures_per_minute
    )
    app.add_middleware(
        AuthMiddleware,
        keys=keys,
        limiter=requests_limiter,
        failures=failures_limiter,
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
    async def _library_error(r: Request, exc: SummarizerError) -> Response:
        log_failure(exc, f"{r.method} {r.url.path}")
        return fail(status_for(exc), type(exc).__name__, public_message(exc))

    @app.exception_handler(ClientDisconnect)
    async def _gone(_r: Request, _exc: ClientDisconnect) -> Response:
        # Nobody is left to answer; MetricsMiddleware counts this as a disconnect.
        return Response(status_code=499)

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
    async def healthz() -> dict[str, Any]:
        """ "ok", or "degraded" with `details` saying what is wrong (still 200: the process
        serves, and a restart would not start with a broken template)."""
        problem = live_kinds.problem
        if problem is None:
            return {"status": "ok", "version": __version__}
        details = {"kinds": f"{problem} (serving the kinds loaded before)"}
        return {"status": "degraded", "version": __version__, "details": details}

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
        # The body is read and checked by parse_brief_request (counts first, in a worker
        # thread), not by FastAPI on the event loop; this documents its schema.
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/BriefRequest"}}
                },
            }
        },
    )
    async def create_brief(request: Request, key: Caller, fmt: FormatQuery = "json") -> Any:
        """One document of at most `sync_threshold_chars` and no URLs: the brief, at once.
        Anything else: 202 with a job id to poll; each document or URL gets its own brief.
        A document this key already had briefed with the same settings is not paid for
        again: its stored brief is returned."""
        raw = await request.body()
        body, docs = await anyio.to_thread.run_sync(
            lambda: parse_brief_request(
                raw,
                max_documents=limits.max_documents,
                max_chars=limits.max_document_chars,
                max_bytes=settings.max_input_bytes,
            )
        )
        kind = _check_kind(body.kind, await live_kinds.current())
        if len(docs) == 1 and not body.urls and len(docs[0].text) <= limits.sync_threshold_chars:
            async with sync_queue.slot():
                brief_id, brief = await briefer.brief(docs[0], "api", kind, owner=key)
            # A caller that hung up while waiting is counted as a disconnect (the check reads
            # its connection's state); the brief is kept, and a resubmission gets it free.
            await request.is_disconnected()
            response = render(brief, fmt)
            response.headers["Location"] = f"/v1/briefs/{brief_id}"
            response.headers["X-Brief-Id"] = brief_id
            return response
        if queue is not None:
            job_id = await queue.submit(briefer.astore, body.model_dump_json(), owner=key)
        else:
            job_id = await briefer.submit_job(body, docs, owner=key)
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
        view = await briefer.job_view(job_id, owner=key, admin=keys.is_admin(key))
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
        key: Caller, brief_id: Annotated[str, _ID], fmt: FormatQuery = "json"
    ) -> Any:
        found = await astore.get_brief_owned(brief_id)
        # Someone else's brief is answered exactly as a missing one: ids are not probed.
        if found is None or not may_read(key, found[2]):
            raise ApiError(404, "NotFound", f"brief {brief_id}: not found; check the id")
        kind, body, _owner = found
        return render(load_output(kind, body, await live_kinds.current()), fmt)

    @app.get(
        "/v1/stories/{story_id}",
        tags=["stories"],
        summary="A story's timeline across daily runs",
        responses=_ERRORS,
    )
    async def get_story(
        key: Caller,
        story_id: Annotated[
            str, Path(pattern=_STORY_ID, description="A story id of a daily brief.")
        ],
    ) -> dict[str, Any]:
        """Each day's new developments, stances, shifts and answers, then its questions
        (the same as `summarizer story ID --format json`). Stories come from daily runs:
        readable as `local_briefs` allows, like the daily briefs themselves."""
        from summarizer.stories import ledger

        if not may_read(key, None):  # answered as a missing story: ids are not probed
            raise ApiError(404, "NotFound", f"story {story_id}: not found; check the id")
        try:
            return await astore.call(ledger.story, store, story_id)
        except InputError:
            raise ApiError(404, "NotFound", f"story {story_id}: not found; check the id") from None

    @app.get(
        "/v1/questions",
        tags=["stories"],
        summary="The open-question ledger",
        response_model=list[LedgerQuestion],
        responses={**_ERRORS, 403: {"model": ErrorBody}},
    )
    async def list_questions(
        key: Caller,
        status: Annotated[
            Literal["open", "answered", "dropped"] | None, Query(description="Only this status.")
        ] = None,
        story: Annotated[
            str | None, Query(pattern=_STORY_ID, description="Only this story.")
        ] = None,
        since: Annotated[
            date | None, Query(description="First asked on or after (YYYY-MM-DD).")
        ] = None,
    ) -> list[LedgerQuestion]:
        """Every question the daily briefs asked, with its status and age (as
        `summarizer questions --format json`). Readable as `local_briefs` allows."""
        from summarizer.stories import ledger

        if not may_read(key, None):
            raise ApiError(
                403,
                "Forbidden",
                "the question ledger comes from daily runs, which this key may not read; "
                "see local_briefs",
            )
        return await astore.call(
            lambda: ledger.questions(
                store, status=status, story=story, since=since.isoformat() if since else None
            )
        )

    def _check_kind(name: str, registry: KindRegistry) -> str:
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
        return kind_views(await live_kinds.current())

    def may_read(key: str, owner: str | None) -> bool:
        admin = keys.is_admin(key)
        if owner is None:  # made outside the API: the CLI, daily or the Slack bot
            return limits.local_briefs == "all" or (limits.local_briefs == "admin" and admin)
        return owner == key or admin

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            body = BriefRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components["BriefRequest"] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
