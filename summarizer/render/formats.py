"""The output formats, listed once: name, media type, file extension.

The CLI's --format, the API's ?format=, `daily`'s formats and `show` all read this table,
so a format is offered everywhere or nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from summarizer.errors import ConfigError


@dataclass(frozen=True)
class OutputFormat:
    name: str
    media_type: str
    extension: str
    description: str


FORMATS: dict[str, OutputFormat] = {
    f.name: f
    for f in (
        OutputFormat("md", "text/markdown; charset=utf-8", ".md", "Markdown"),
        OutputFormat("json", "application/json", ".json", "the JSON contract (schemas/)"),
        OutputFormat("html", "text/html; charset=utf-8", ".html", "one self-contained page"),
        OutputFormat("slack", "application/json", ".slack.json", "Slack Block Kit messages"),
    )
}
NAMES: tuple[str, ...] = tuple(FORMATS)


def get_format(name: str, flag: str = "--format") -> OutputFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigError(f"{flag} {name}: unknown; use one of {', '.join(NAMES)}") from None
