"""How `--help` reads: one style for every command, whatever typer's renderer does.

typer's rich help shows each option's Python type (`<bool>` on a flag that takes no
value, `<list[Path]>`), keeps a docstring's line breaks (so text breaks mid-sentence at the
column it was typed in, whatever the terminal), and reads square brackets as markup (so
"[daily]" vanishes). The command classes here fix that when help is shown, and only then:
a command that runs pays nothing for it.
"""

from __future__ import annotations

from typing import Any

import typer.core

# Value names a reader knows, in place of Python's type names.
_LABELS = {
    "str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "Path": "PATH",
    "int range": "INTEGER", "float range": "NUMBER",
}  # fmt: skip
EXAMPLES = "Examples:"


def reflow(text: str | None) -> str | None:
    """One line per paragraph, so the terminal wraps it; the examples keep their lines."""
    if not text:
        return text
    head, sep, examples = text.partition(EXAMPLES)
    import inspect

    paragraphs = [" ".join(p.split()) for p in inspect.cleandoc(head).split("\n\n")]
    out = "\n\n".join(p for p in paragraphs if p)
    if sep:
        lines = [ln.strip() for ln in inspect.cleandoc(examples).splitlines()]
        out += f"\n\n{EXAMPLES}\n" + "\n".join(ln for ln in lines).strip("\n")
    return out


def _escape(text: str) -> str:
    # rich markup takes "[word]" for a style; an escaped bracket prints as itself.
    return text.replace("[", "\\[")


def _label(param: Any, ctx: Any) -> str | None:
    """The value name shown after an option: none for a flag, else TEXT, INTEGER, ..."""
    if getattr(param, "is_bool_flag", False) or getattr(param, "count", False):
        return ""
    if param.metavar is not None:
        return str(param.metavar)
    shown = param.display_type(ctx) if hasattr(param, "display_type") else None
    if not isinstance(shown, str):
        return None
    name = shown.strip("<>")
    while name.startswith("list[") and name.endswith("]"):
        name = name[5:-1]
    if "|" in name:  # choices: keep them, they are the values
        return name
    return _LABELS.get(name, name.upper())


def _default(param: Any) -> str | None:
    """The default as the reader should see it, or None to show none."""
    if getattr(param, "is_bool_flag", False) and not getattr(param, "secondary_opts", None):
        return None  # a flag is off unless given
    shown = getattr(param, "show_default", None)
    if isinstance(shown, str):
        return shown
    if shown is False:
        return None
    value = param.default
    if value is None or value is False or value == () or value == [] or callable(value):
        return None
    return str(value)


def tidy(command: Any, ctx: Any) -> None:
    """Put the command's help and its parameters in the house style (once)."""
    if getattr(command, "_help_tidied", False):
        return
    command._help_tidied = True
    if command.help:
        # The examples close the help, after the options, where a reader looks last.
        prose, sep, examples = (reflow(command.help) or "").partition(EXAMPLES)
        command.help = _escape(prose.strip())
        if sep and not command.epilog:
            command.epilog = _escape(EXAMPLES + examples)
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
            if hasattr(param, "display_type_rich"):
                # The name already says what goes there; its Python type says nothing more.
                param.display_type_rich = lambda ctx: None
            if getattr(param, "help", None):
                param.help = _escape(reflow(param.help) or "")
            continue
        label = _label(param, ctx)
        if label is not None:
            param.metavar = label
        default = _default(param)
        text = reflow(getattr(param, "help", None) or "") or ""
        if default is not None:
            text = f"{text} [default: {default}]".strip()
        param.help = _escape(text)
        param.show_default = False


class Command(typer.core.TyperCommand):
    """A command whose help reads like the others' (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The group lists each command by its first paragraph: one line, wrapped by the terminal.
        self.help = reflow(self.help)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        tidy(self, ctx)
        super().format_help(ctx, formatter)


class Group(typer.core.TyperGroup):
    """The `summarizer` group and its sub-groups, in the same style."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        tidy(self, ctx)
        for name in self.list_commands(ctx):
            sub = self.get_command(ctx, name)
            if sub is not None and sub.help:
                sub.help = reflow(sub.help)
        super().format_help(ctx, formatter)
