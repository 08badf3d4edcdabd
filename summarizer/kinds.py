"""Kinds: what a run makes. One registry maps a kind's name to its content model
(Pydantic: what the model is asked to write), its prompt template and its output model.

Built-ins and plugins register the same way, through a `register(registry)` function:

    builtin_kinds.register         brief, story (the synthesis of briefs), timeline
    entry points "summarizer.kinds" installed plugins, as `llm` loads its model plugins
    --kind-file FILE.py            a Python file that defines register(registry)

so every test that briefs anything exercises the seam a user's kind goes through. A kind
whose model cannot be turned into a JSON Schema, whose template does not render, or whose
plugin does not import is refused when the registry loads, with one line naming the file
(KindError). Whatever the kind, grounding.py checks every `Quote` in its output.

Loading is lazy (`registry_for(settings)`), so `summarizer --help` never pays for it. A
server keeps its registry in a `LiveKinds`: reloaded off the event loop, the last good one
serving while a template or kind file is broken.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from summarizer.errors import ConfigError, KindError
from summarizer.prompting import Prompt, PromptLibrary, parse

if TYPE_CHECKING:
    from pydantic import BaseModel

    from summarizer.config import Settings

ENTRY_POINT_GROUP = "summarizer.kinds"
RESERVED_FIELDS = frozenset({"schema_version", "sources", "provenance"})

log = logging.getLogger("summarizer.kinds")


@dataclass(frozen=True)
class Kind:
    """One kind of output.

    name         what users type: `--kind NAME`, `"kind": NAME`, `/brief NAME <url>`
    model        the content model the LLM fills (every field described: it is prompt text)
    description  one line for `summarizer kinds` and GET /v1/kinds
    prompt       its template's name (default: the kind's name); a user's template of
                 that name in the prompts folder overrides it, and a template of a new
                 name whose header says `kind: NAME` adds a variant of kind NAME
    template     the kind's own template, for plugins and kind files: Jinja text, or a
                 Path to a .j2 file (a built-in kind's lives in prompts/)
    output       the output model (content + sources + provenance); default: made from model
    takes        "article" (one article in), or "briefs" (a synthesis of several outputs)
    synthesis    the kind that merges several outputs of this one (brief -> story): used
                 for stories in `daily` and for the parts of an over-long article
    merge        merges the outputs of an over-long article's parts without a model call
                 (timeline: the events in order); a kind with neither refuses such articles
    """

    name: str
    model: type[BaseModel]
    description: str
    prompt: str = ""
    template: str | Path | None = None
    output: type[BaseModel] | None = None
    takes: Literal["article", "briefs"] = "article"
    synthesis: str | None = None
    merge: Callable[[Sequence[Any]], Any] | None = None
    origin: str = field(default="built-in", compare=False)

    @property
    def prompt_name(self) -> str:
        return self.prompt or self.name

    @property
    def output_model(self) -> type[BaseModel]:
        if self.output is not None:
            return self.output
        return _default_output(self.model)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of what this kind returns (GET /v1/kinds, `summarizer schema`)."""
        return self.output_model.model_json_schema()


@cache
def _default_output(model: type[BaseModel]) -> type[BaseModel]:
    from summarizer.schemas import output_model

    return output_model(model, model.__name__.removesuffix("Content") or model.__name__)


class KindRegistry:
    """Every kind visible to one run, and the prompt templates they use."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}
        self._origin = "built-in"
        self.prompts: PromptLibrary = PromptLibrary.empty()

    def register(self, kind: Kind) -> None:
        """Add a kind. Called from a `register(registry)` hook; a name can be taken once."""
        if not isinstance(kind, Kind):
            raise KindError(f"{self._origin}: register() got {kind!r}, not a summarizer Kind")
        if kind.name in self._kinds:
            raise KindError(
                f"{self._origin}: kind {kind.name!r} is already registered by "
                f"{self._kinds[kind.name].origin}; choose another name"
            )
        self._kinds[kind.name] = replace(kind, origin=self._origin)

    def get(self, name: str) -> Kind:
        try:
            return self._kinds[name]
        except KeyError:
            raise ConfigError(
                f"kind {name!r}: unknown; use one of {', '.join(sorted(self._kinds))} "
                "(see `summarizer kinds`)"
            ) from None

    def __iter__(self) -> Iterator[Kind]:
        return iter(sorted(self._kinds.values(), key=lambda k: k.name))

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def prompt(self, kind: Kind) -> Prompt:
        return self.prompts.get(kind.prompt_name)

    def fingerprint(self, kind: Kind) -> str:
        """What shapes a kind's output besides the article: its template's text and its
        schema (and those of its synthesis). Part of the daily cache key, so an edited
        template is a cache miss even when its declared version stayed the same."""
        parts = []
        for k in (kind, *([self.get(kind.synthesis)] if kind.synthesis else [])):
            schema = json.dumps(k.model.model_json_schema(), sort_keys=True)
            parts.append(
                [k.name, self.prompt(k).sha256, hashlib.sha256(schema.encode()).hexdigest()]
            )
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:24]

    # loading ----------------------------------------------------------------------------

    def _run_hook(self, hook: Callable[[KindRegistry], None], origin: str) -> None:
        self._origin = origin
        try:
            hook(self)
        except KindError:
            raise
        except Exception as exc:
            raise KindError(f"{origin}: register() failed ({_one_line(exc)}); fix it") from None
        finally:
            self._origin = "built-in"

    def _check(self, prompts_dir: Path | None) -> None:
        kind_prompts = []
        for kind in self._kinds.values():
            # Built-in models are checked by the test suite (their schemas are checked in);
            # generating their schemas again would cost every run ~50 ms.
            if kind.origin != "built-in":
                _check_model(kind)
            if kind.template is not None:
                kind_prompts.append(_kind_prompt(kind))
        self.prompts = PromptLibrary(prompts_dir, kind_prompts)
        self._add_variants()
        for kind in self._kinds.values():
            if kind.prompt_name not in self.prompts.by_name:
                raise KindError(
                    f"{kind.origin}: kind {kind.name!r} has no template {kind.prompt_name!r}; "
                    "give it template= or put one in the prompts folder"
                )
            if kind.synthesis is not None and kind.synthesis not in self._kinds:
                raise KindError(
                    f"{kind.origin}: kind {kind.name!r} names synthesis {kind.synthesis!r}, "
                    "which is not a registered kind"
                )

    def _add_variants(self) -> None:
        """A template with a new name whose header says `kind: brief` (say) is a variant:
        a kind of its own name, with the brief's model, output and synthesis. This is how
        a prompts folder adds a house brief without any Python."""
        for p in list(self.prompts):
            if p.name in self._kinds or p.kind == p.name:
                continue
            base = self._kinds.get(p.kind)
            if base is None:
                raise KindError(
                    f"prompt {p.where}: header names kind {p.kind!r}, which is not registered; "
                    f"use one of {', '.join(sorted(self._kinds))}"
                )
            self._kinds[p.name] = replace(
                base, name=p.name, prompt=p.name, template=None, description=p.description,
                origin=f"{p.origin} template {p.where}",
            )  # fmt: skip


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _check_model(kind: Kind) -> None:
    from pydantic import BaseModel

    where = f"{kind.origin}: kind {kind.name!r}"
    if not (isinstance(kind.model, type) and issubclass(kind.model, BaseModel)):
        raise KindError(f"{where}: model must be a Pydantic model class, not {kind.model!r}")
    clash = RESERVED_FIELDS & set(kind.model.model_fields)
    if clash:
        raise KindError(
            f"{where}: field(s) {', '.join(sorted(clash))} are added by summarizer; rename them"
        )
    try:
        kind.model.model_json_schema()
        kind.output_model.model_json_schema()
    except Exception as exc:
        raise KindError(
            f"{where}: model {kind.model.__name__} cannot be turned into a JSON Schema "
            f"({_one_line(exc)}); use JSON-serialisable field types"
        ) from None


def _kind_prompt(kind: Kind) -> Prompt:
    origin = f"kind {kind.name}"
    if isinstance(kind.template, Path):
        try:
            text = kind.template.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KindError(f"prompt {kind.template}: cannot be read ({exc})") from None
        return parse(text, str(kind.template), origin)
    assert kind.template is not None
    return parse(kind.template, f"{kind.origin} (template of kind {kind.name})", origin)


def _load_file(path: Path) -> Callable[[KindRegistry], None]:
    if not path.is_file():
        raise KindError(f"{path}: kind file not found; check --kind-file")
    name = f"summarizer_kind_file_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise KindError(f"{path}: not a Python file; a kind file is a .py with register()")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves the models' annotations through it
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise KindError(f"{path}: cannot load kind file ({_one_line(exc)}); fix it") from None
    hook = getattr(module, "register", None)
    if not callable(hook):
        raise KindError(f"{path}: defines no register(registry) function; add one")
    return hook  # type: ignore[no-any-return]


@cache
def _plugins() -> tuple[tuple[str, Callable[[KindRegistry], None]], ...]:
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else "?"
        origin = f"plugin {dist} (entry point {ep.name} = {ep.value})"
        try:
            hook = ep.load()
        except Exception as exc:
            raise KindError(
                f"{origin}: cannot be imported ({_one_line(exc)}); fix or uninstall it"
            ) from None
        if not callable(hook):
            raise KindError(f"{origin}: is not a register(registry) function")
        found.append((origin, hook))
    return tuple(found)


def load(prompts_dir: Path | None = None, kind_files: Sequence[Path] = ()) -> KindRegistry:
    """Built-in kinds, then installed plugins, then kind files; then their templates."""
    from summarizer import builtin_kinds

    registry = KindRegistry()
    registry._run_hook(builtin_kinds.register, "built-in")
    for origin, hook in _plugins():
        registry._run_hook(hook, origin)
    for path in kind_files:
        registry._run_hook(_load_file(path), str(path))
    registry._check(prompts_dir)
    return registry


ConfigKey = tuple[Path | None, tuple[Path, ...]]
Stamp = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class _Loaded:
    """What one configuration (prompts folder, kind files) loaded last."""

    stamp: Stamp  # the templates' mtimes it was loaded for
    registry: KindRegistry | None  # the last registry that loaded (None: none ever did)
    failure: ConfigError | None  # why `stamp` did not load; not retried until a file changes


_loaded: dict[ConfigKey, _Loaded] = {}
_watched: dict[ConfigKey, int] = {}
# One load at a time: a kind file is imported once, never by two threads at once.
_loading = threading.Lock()


def _config(settings: Settings) -> tuple[ConfigKey, tuple[Path, ...]]:
    from summarizer.prompting import user_dir

    dirs = tuple(d for d in (settings.prompts_dir, user_dir()) if d is not None)
    return (settings.prompts_dir, tuple(settings.kind_files)), dirs


def registry_for(settings: Settings) -> KindRegistry:
    """The registry for these settings, loaded once per process and reloaded when a
    template in the prompts folders or a kind file changes. A load that failed raises the
    same KindError until a file changes again: a broken kind file is not imported per call.

    In a server (`LiveKinds`) this only reads the registry the server keeps: its reloads
    run off the event loop, and a broken template leaves the last good registry."""
    key, dirs = _config(settings)
    loaded = _loaded.get(key)
    if _watched.get(key) and loaded is not None and loaded.registry is not None:
        return loaded.registry
    loaded = _load(key, _signature(dirs, key[1]))
    if loaded.failure is not None:
        raise type(loaded.failure)(str(loaded.failure))
    assert loaded.registry is not None
    return loaded.registry


def _signature(dirs: Sequence[Path], kind_files: Sequence[Path] = ()) -> Stamp:
    # The kind files count too: a fixed (or newly broken) kind file is loaded again.
    stamp = []
    for d in dirs:
        try:
            stamp += [(str(p), p.stat().st_mtime) for p in sorted(d.glob("*.j2"))]
        except OSError:
            continue
    for f in kind_files:
        try:
            stamp.append((str(f), f.stat().st_mtime))
        except OSError:
            stamp.append((str(f), -1.0))
    return tuple(stamp)


def _load(key: ConfigKey, stamp: Stamp) -> _Loaded:
    with _loading:
        before = _loaded.get(key)
        if before is not None and before.stamp == stamp:
            return before
        try:
            loaded = _Loaded(stamp, load(*key), None)
        except ConfigError as exc:  # KindError, or a template or prompts folder refused
            loaded = _Loaded(stamp, before.registry if before else None, exc)
        _loaded[key] = loaded
        return loaded


class LiveKinds:
    """The kind registry of a server that runs for days.

    Loaded when the server is made (a broken kind refuses to start, with its one line);
    then each `await current()` looks at the templates' mtimes and reloads in a worker
    thread, so a slow kind file never stalls the event loop (`/healthz` included). A load
    that fails leaves the last good registry serving; its reason is logged once and kept
    in `problem` (for /healthz) until a load succeeds. While watched (`watch()`), the
    library's own `registry_for` calls (pipeline, jobs) read this registry and never load
    on the loop.
    """

    def __init__(self, settings: Settings) -> None:
        self._key, self._dirs = _config(settings)
        loaded = _load(self._key, _signature(self._dirs, self._key[1]))
        if loaded.failure is not None:
            raise type(loaded.failure)(str(loaded.failure))
        self._reported: str | None = None
        self._lock: asyncio.Lock | None = None
        self._watching = False

    @property
    def problem(self) -> str | None:
        """Why the registry being served is not the one the files describe, or None."""
        loaded = _loaded.get(self._key)
        return str(loaded.failure) if loaded is not None and loaded.failure else None

    def watch(self) -> None:
        """From now on `registry_for` with these settings reads this registry (a server's
        lifespan: its start). Once per server; `unwatch()` at its end."""
        if not self._watching:
            self._watching = True
            _watched[self._key] = _watched.get(self._key, 0) + 1

    def unwatch(self) -> None:
        if self._watching:
            self._watching = False
            _watched[self._key] -= 1

    async def current(self) -> KindRegistry:
        stamp = await asyncio.to_thread(_signature, self._dirs, self._key[1])
        loaded = _loaded.get(self._key)
        if loaded is None or loaded.stamp != stamp:
            if self._lock is None:  # made here so it belongs to the serving event loop
                self._lock = asyncio.Lock()
            async with self._lock:  # callers during a reload share it
                loaded = await asyncio.to_thread(_load, self._key, stamp)
            self._report(loaded)
        assert loaded.registry is not None  # __init__ loaded one, and it is never dropped
        return loaded.registry

    def _report(self, loaded: _Loaded) -> None:
        problem = str(loaded.failure) if loaded.failure is not None else None
        if problem == self._reported:
            return
        if problem is not None:
            log.error("kinds not reloaded, the last good ones still serve: %s", problem)
        elif self._reported is not None:
            log.warning("kinds reloaded: the broken template or kind file is fixed")
        self._reported = problem


def load_output(stored_kind: str, body: str, registry: KindRegistry) -> BaseModel:
    """A stored output back as its model: a daily brief, or any kind's output (the store's
    kind column; "article" is what briefs were stored as before kinds)."""
    from summarizer.schemas import DailyBrief

    if stored_kind == "daily":
        return DailyBrief.model_validate_json(body)
    name = "brief" if stored_kind == "article" else stored_kind
    if name not in registry:
        raise ConfigError(
            f"stored output is of kind {name!r}, which is not loaded; install its plugin "
            "or pass its --kind-file"
        )
    return registry.get(name).output_model.model_validate_json(body)


def clear_cache() -> None:
    """Forget loaded registries and plugins (tests install plugins and edit templates)."""
    with _loading:
        _loaded.clear()
    _plugins.cache_clear()
    _default_output.cache_clear()
