"""A kind and the registry of kinds: what a kind declares (its content model, template,
output model) and the checks a registry runs when one is registered. Built-ins
(builtin_kinds.py), plugins and kind files all register through these; kinds.py loads
them into a registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from summarizer.core.prompting import Prompt, PromptLibrary, parse
from summarizer.errors import ConfigError, KindError

if TYPE_CHECKING:
    from pydantic import BaseModel

RESERVED_FIELDS = frozenset({"schema_version", "sources", "provenance"})


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
    from summarizer.core.schemas import output_model

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
