"""Prompt templates: Jinja2 files in summarizer/prompts/ with a small header.

    {#-
    name: brief
    version: 3
    description: one line
    -#}

A template has a `system` and a `user` block. Article text is untrusted data: it is
passed in as a variable (Jinja never evaluates a variable's value, so `{{ 7*7 }}` in an
article stays as typed) and sits between fences named after a hash of the text itself,
which the text therefore cannot contain: nothing inside an article can close its block.
The messages go to instructor without `context=`, so instructor does not render them again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from summarizer.errors import ConfigError

_HEADER = re.compile(r"\A\{#-?\s*\n(?P<body>.*?)\n\s*-?#\}", re.DOTALL)
_FIELD = re.compile(r"^\s*(\w+)\s*:\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    description: str
    path: Path

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


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


def prompts_dir() -> Path:
    return Path(str(resources.files("summarizer") / "prompts"))


def _parse(path: Path) -> Prompt:
    m = _HEADER.match(path.read_text(encoding="utf-8"))
    fields = dict(_FIELD.findall(m.group("body"))) if m else {}
    missing = {"name", "version", "description"} - fields.keys()
    if missing:
        raise ConfigError(f"prompt {path}: header lacks {', '.join(sorted(missing))}; add it")
    return Prompt(fields["name"], fields["version"], fields["description"], path)


@cache
def list_prompts() -> tuple[Prompt, ...]:
    return tuple(_parse(p) for p in sorted(prompts_dir().glob("*.j2")))


def get_prompt(name: str) -> Prompt:
    for p in list_prompts():
        if p.name == name:
            return p
    known = ", ".join(p.name for p in list_prompts())
    raise ConfigError(f"prompt {name!r} not found; known prompts: {known}")


@cache
def _template(path: Path) -> Any:
    # Imported here: jinja2 is only needed once a brief is actually made.
    import jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    return env.from_string(path.read_text(encoding="utf-8"))


def render_messages(prompt: Prompt, **variables: Any) -> list[dict[str, str]]:
    template = _template(prompt.path)
    ctx = template.new_context(variables)
    messages = []
    for role in ("system", "user"):
        if role not in template.blocks:
            raise ConfigError(f"prompt {prompt.name}: no {{% block {role} %}}; add one")
        text = "".join(template.blocks[role](ctx)).strip()
        messages.append({"role": role, "content": text})
    return messages
