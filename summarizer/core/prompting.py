"""Prompt templates: Jinja2 files with a small header, found in a stated order.

    {#-
    name: brief
    version: 3
    kind: brief            (optional; default: the name)
    description: one line
    -#}

Where templates come from, first match by name wins (so a user's `brief.j2` overrides the
built-in one and a new name adds one):

    --prompts-dir DIR / SUMMARIZER_PROMPTS_DIR      ("prompts dir")
    ~/.config/summarizer/prompts/ ($XDG_CONFIG_HOME) ("user")
    a kind's own template (plugin or --kind-file)    ("kind <name>")
    the top-level prompts/ shipped in the wheel      ("built-in")

A template has a `system` and a `user` block. The system block must come out the same for
every article (it is checked at load): with the schema it forms the request's fixed prefix,
which a provider caches only when it is byte-identical. What varies (the fence, the
article, the language) belongs in the user block.

Article text is untrusted data: it is passed in as a variable (Jinja never evaluates a
variable's value, so `{{ 7*7 }}` in an article stays as typed) and sits between fences
named after a hash of the text itself, which the text therefore cannot contain: nothing
inside an article can close its block. The messages go to instructor without `context=`,
so instructor does not render them again.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from summarizer.errors import ConfigError

_HEADER = re.compile(r"\A\{#-?\s*\n(?P<body>.*?)\n\s*-?#\}", re.DOTALL)
_FIELD = re.compile(r"^\s*(\w+)\s*:\s*(.+?)\s*$", re.MULTILINE)
ROLES = ("system", "user")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    description: str
    kind: str
    origin: str  # "built-in", "user", "prompts dir", "kind NAME"
    where: str  # the file it was read from, or the kind that carries it inline
    source: str  # the template text

    @property
    def sha256(self) -> str:
        """Hash of the template text: an edit changes it even when the version does not."""
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Article:
    """One article as the template sees it."""

    id: str
    text: str
    title: str | None = None
    url: str | None = None
    published: str | None = None

    @property
    def fence(self) -> str:
        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        n = 16
        # A text cannot contain its own hash except by a collision; grow it to be certain.
        while f"ARTICLE-{digest[:n]}" in self.text and n < len(digest):
            n += 8
        return f"ARTICLE-{digest[:n]}"


def builtin_dir() -> Path:
    """The shipped templates: inside the package in a wheel (hatch force-include puts them
    there), the top-level prompts/ in a source checkout or an editable install."""
    package = Path(__file__).resolve().parent.parent  # this module is in summarizer/core/
    inside = package / "prompts"
    return inside if inside.is_dir() else package.parent / "prompts"


def user_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "summarizer" / "prompts"


def parse(text: str, where: str, origin: str) -> Prompt:
    """A template from its text; refused (ConfigError naming `where`) unless its header is
    complete and it renders with the variables every kind's template gets."""
    m = _HEADER.match(text)
    fields = dict(_FIELD.findall(m.group("body"))) if m else {}
    missing = {"name", "version", "description"} - fields.keys()
    if missing:
        raise ConfigError(f"prompt {where}: header lacks {', '.join(sorted(missing))}; add it")
    prompt = Prompt(
        name=fields["name"],
        version=fields["version"],
        description=fields["description"],
        kind=str(fields.get("kind", fields["name"])),
        origin=origin,
        where=where,
        source=text,
    )
    if origin != "built-in":
        # The shipped templates are checked by the test suite; compiling every one of them
        # on every run would cost ~15 ms each.
        _check(prompt)
    return prompt


def _samples(article_text: str, language: str | None) -> Iterable[dict[str, Any]]:
    article = Article("S1", article_text, title="T", url="https://example.com/a", published="2026")
    for parts in (False, True):
        yield {
            "articles": [article],
            "source_ids": ["S1"],
            "parts_of_one_article": parts,
            "language": language,
        }


def _check(prompt: Prompt) -> None:
    import jinja2

    try:
        template = _compile(prompt.source)
        systems = set()
        for text, language in (("First sample article.", None), ("Other one.", "French")):
            for variables in _samples(text, language):
                messages = _render(template, variables, prompt)
                systems.add(messages[0]["content"])
    except jinja2.TemplateError as exc:
        lineno = getattr(exc, "lineno", None)
        line = f" line {lineno}" if lineno else ""
        raise ConfigError(
            f"prompt {prompt.where}{line}: does not render ({exc.message or exc}); fix the template"
        ) from None
    if len(systems) > 1:
        raise ConfigError(
            f"prompt {prompt.where}: the system block changes with the article or language; "
            "move article-specific text (fence, title, language) to the user block"
        )


def _read_dir(directory: Path, origin: str) -> list[Prompt]:
    found = []
    for path in sorted(directory.glob("*.j2")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"prompt {path}: cannot be read ({exc}); fix or remove it") from None
        found.append(parse(text, str(path), origin))
    return found


@cache
def _dir_prompts(directory: Path, origin: str, mtime: float) -> tuple[Prompt, ...]:
    return tuple(_read_dir(directory, origin))


def _prompts_in(directory: Path, origin: str) -> tuple[Prompt, ...]:
    try:
        mtime = max(
            [directory.stat().st_mtime, *(p.stat().st_mtime for p in directory.glob("*.j2"))]
        )
    except OSError:
        return ()
    return _dir_prompts(directory, origin, mtime)


class PromptLibrary:
    """Every template visible to one run, in precedence order (see the module docstring)."""

    def __init__(self, prompts_dir: Path | None = None, kind_prompts: Sequence[Prompt] = ()):
        layers: list[Sequence[Prompt]] = []
        if prompts_dir is not None:
            if not prompts_dir.is_dir():
                raise ConfigError(
                    f"{prompts_dir}: prompts directory not found; check --prompts-dir "
                    "or SUMMARIZER_PROMPTS_DIR"
                )
            layers.append(_prompts_in(prompts_dir, "prompts dir"))
        layers.append(_prompts_in(user_dir(), "user"))
        layers.append(kind_prompts)
        layers.append(_prompts_in(builtin_dir(), "built-in"))
        self.by_name: dict[str, Prompt] = {}
        self.shadowed: list[Prompt] = []
        for layer in layers:
            for p in layer:
                if p.name in self.by_name:
                    self.shadowed.append(p)
                else:
                    self.by_name[p.name] = p

    @classmethod
    def empty(cls) -> PromptLibrary:
        library = cls.__new__(cls)
        library.by_name, library.shadowed = {}, []
        return library

    def get(self, name: str) -> Prompt:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(sorted(self.by_name))
            raise ConfigError(f"prompt {name!r} not found; known prompts: {known}") from None

    def __iter__(self) -> Any:
        return iter(sorted(self.by_name.values(), key=lambda p: p.name))


def list_prompts(prompts_dir: Path | None = None) -> tuple[Prompt, ...]:
    return tuple(PromptLibrary(prompts_dir))


def get_prompt(name: str, prompts_dir: Path | None = None) -> Prompt:
    return PromptLibrary(prompts_dir).get(name)


@cache
def _compile(source: str) -> Any:
    # Imported here: jinja2 is only needed once a brief is actually made.
    import jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    return env.from_string(source)


def _render(template: Any, variables: dict[str, Any], prompt: Prompt) -> list[dict[str, str]]:
    ctx = template.new_context(variables)
    messages = []
    for role in ROLES:
        if role not in template.blocks:
            raise ConfigError(f"prompt {prompt.where}: no {{% block {role} %}}; add one")
        text = "".join(template.blocks[role](ctx)).strip()
        messages.append({"role": role, "content": text})
    return messages


def render_messages(prompt: Prompt, **variables: Any) -> list[dict[str, str]]:
    """[system, user]: the system message is the same for every article of a kind."""
    variables.setdefault("source_ids", sorted({a.id for a in variables.get("articles", [])}))
    variables.setdefault("parts_of_one_article", False)
    variables.setdefault("language", None)
    return _render(_compile(prompt.source), variables, prompt)
