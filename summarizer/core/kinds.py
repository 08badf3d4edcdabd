"""Kinds: what a run makes. One registry maps a kind's name to its content model
(Pydantic: what the model is asked to write), its prompt template and its output model.

Built-ins and plugins register the same way, through a `register(registry)` function:

    builtin_kinds.register         brief, story (the synthesis of briefs), timeline
    entry points "summarizer.core.kinds" installed plugins, as `llm` loads its model plugins
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
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from summarizer.core.kind_registry import (  # re-exported: the names a plugin imports
    RESERVED_FIELDS,
    Kind,
    KindRegistry,
    _default_output,
    _one_line,
)
from summarizer.errors import ConfigError, KindError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from summarizer.config import Settings

ENTRY_POINT_GROUP = "summarizer.core.kinds"
__all__ = [
    "ENTRY_POINT_GROUP",
    "RESERVED_FIELDS",
    "Kind",
    "KindRegistry",
    "LiveKinds",
    "load",
    "load_output",
    "registry_for",
]

log = logging.getLogger("summarizer.core.kinds")


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
    from summarizer.core import builtin_kinds

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
    from summarizer.core.prompting import user_dir

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
    from summarizer.core.schemas import DailyBrief

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
