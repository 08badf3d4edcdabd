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

Loading is lazy (`registry_for(settings)`), so `summarizer --help` never pays for it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from summarizer.errors import ConfigError, KindError
from summarizer.kind_registry import (  # re-exported: the names a plugin imports
    RESERVED_FIELDS,
    Kind,
    KindRegistry,
    _default_output,
    _one_line,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from summarizer.config import Settings

ENTRY_POINT_GROUP = "summarizer.kinds"
__all__ = [
    "ENTRY_POINT_GROUP",
    "RESERVED_FIELDS",
    "Kind",
    "KindRegistry",
    "load",
    "load_output",
    "registry_for",
]


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


def registry_for(settings: Settings) -> KindRegistry:
    """The registry for these settings, loaded once per process and reloaded when a
    template in the prompts folders changes."""
    from summarizer.prompting import user_dir

    dirs = tuple(d for d in (settings.prompts_dir, user_dir()) if d is not None)
    return _cached(settings.prompts_dir, tuple(settings.kind_files), _signature(dirs))


def _signature(dirs: Sequence[Path]) -> tuple[tuple[str, float], ...]:
    stamp = []
    for d in dirs:
        try:
            stamp += [(str(p), p.stat().st_mtime) for p in sorted(d.glob("*.j2"))]
        except OSError:
            continue
    return tuple(stamp)


@cache
def _cached(
    prompts_dir: Path | None, kind_files: tuple[Path, ...], _stamp: tuple[tuple[str, float], ...]
) -> KindRegistry:
    return load(prompts_dir, kind_files)


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
    _cached.cache_clear()
    _plugins.cache_clear()
    _default_output.cache_clear()
