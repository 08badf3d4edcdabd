"""`summarizer eval GOLD_DIR`: brief a gold set, score it, compare variants, gate CI; or,
for a directory of link pairs, score story matching (eval/links.py).

The model options are the shared ones (`options.py`) except three that take several
values here, one variant each: `--model`, `--kind` and `--prompt` (a prompts folder or a
template file, used as `--prompts-dir` is elsewhere).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from summarizer.cli import edge, options

if TYPE_CHECKING:
    from summarizer.eval.gold import GoldCase


def eval_(
    gold_dir: Annotated[
        Path,
        typer.Argument(
            metavar="GOLD_DIR", help="Directory of gold files (*.json).", show_default=False
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the scores as JSON to FILE (atomically).",
            show_default=False,
        ),
    ] = None,
    prompts: Annotated[
        list[Path] | None,
        typer.Option(
            "--prompt",
            metavar="DIR|FILE.j2",
            help="A prompts folder or a template file (.j2) overriding the built-in "
            "templates; repeat to compare.",
            show_default=False,
        ),
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            metavar="NAME",
            help="Model name; repeat to compare.",
            show_default=False,
        ),
    ] = None,
    kinds: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            "-k",
            metavar="KIND",
            help="Make this kind instead of each gold file's; repeat to compare.",
            show_default=False,
        ),
    ] = None,
    floors: Annotated[
        list[str] | None,
        typer.Option(
            "--min",
            metavar="METRIC=VALUE",
            help="Exit 14 when this overall metric is below it (repeatable).",
            show_default=False,
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option("--threshold", help="Token-set similarity needed to match actors and topics."),
    ] = 0.8,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="NAME|GLOB",
            help="Run only these gold files: a name (with or without .json) or a glob such "
            "as 'port-*'; repeatable.",
            show_default=False,
        ),
    ] = None,
    config: options.Config = None,
    base_url: options.BaseUrl = None,
    mode: options.Mode = None,
    system_prompt: options.SystemPrompt = None,
    record: options.Record = None,
    replay: options.Replay = None,
    strict: options.Strict = False,
    timeout: options.Timeout = None,
    retries: options.Retries = None,
    max_reasks: options.MaxReasks = None,
    max_tokens: options.MaxTokens = None,
    max_bytes: options.MaxBytes = None,
    concurrency: options.Concurrency = None,
    rpm: options.Rpm = None,
    language: options.Language = None,
    prompts_dir: options.PromptsDir = None,
    kind_file: options.KindFile = None,
    verbose: options.Verbose = False,
) -> None:
    """Brief every gold article and score it: stance rows, labels, quotes, questions, cost.

    A directory of link pairs ("kind": "link") scores story matching instead: link
    precision, recall and F1 (docs/linking.md).

    Examples:

    summarizer eval seeds/gold --replay seeds/recordings -o eval.json
    summarizer eval my-gold/ --model gpt-4o-mini --model gpt-4.1-mini --min stance_f1=0.9
    summarizer eval seeds/gold-links --min link_f1=0.95
    """
    edge.setup_logging(verbose)
    with edge.guarded(), ExitStack() as stack:
        import asyncio
        import dataclasses

        from summarizer.errors import EXIT_PARTIAL, ConfigError, GateFailed
        from summarizer.eval import load_gold_set, parse_gate, run_variant, variants
        from summarizer.eval.report import render_text, to_json
        from summarizer.eval.run import check_gates, kind_checker, labels

        if not 0 < threshold <= 1:
            raise ConfigError(f"--threshold {threshold:g}: give a number above 0 and at most 1")
        from summarizer.eval import links

        if links.is_link_set(gold_dir):
            _eval_links(gold_dir, output, floors or [], max_bytes)
            return
        gates = [parse_gate(f) for f in floors or []]
        flags = options.ModelFlags(
            config=config, base_url=base_url, mode=mode, system_prompt=system_prompt,
            record=record, replay=replay,
            strict=strict, timeout=timeout, retries=retries, max_reasks=max_reasks,
            max_tokens=max_tokens, max_bytes=max_bytes, concurrency=concurrency, rpm=rpm,
            language=language, prompts_dir=prompts_dir, kind_file=kind_file, verbose=verbose,
        )  # fmt: skip
        base = flags.settings()
        for kind in kinds or []:
            kind_checker(base, ConfigError)(kind, "--kind")
        # Every gold file and article is read and checked before the first model call.
        cases = load_gold_set(
            gold_dir,
            max_bytes=base.max_input_bytes,
            check_kind=None if kinds else kind_checker(base),
        )
        if only:
            cases = _only(cases, only, gold_dir)
        runs = variants([str(p) for p in prompts or []], models or [], kinds or [])
        settings = []
        for v in runs:
            folder = stack.enter_context(_prompts_folder(v.prompt)) if v.prompt else prompts_dir
            s = dataclasses.replace(flags, model=v.model, prompts_dir=folder).settings()
            kind_checker(s, ConfigError)  # a template that does not load fails here, not mid-run
            settings.append(s)
        names = labels(list(zip(runs, settings, strict=True)))
        results = [
            asyncio.run(run_variant(cases, s, v, threshold=threshold, label=name))
            for v, s, name in zip(runs, settings, names, strict=True)
        ]
        checked = check_gates(results, gates)
        if output is not None:
            from summarizer.plumbing.atomic import write_text

            write_text(
                output,
                to_json(results, gold_dir=str(gold_dir), threshold=threshold, gates=checked),
            )
        width = _width()
        sys.stdout.write(render_text(results, threshold=threshold, width=width))
        missed = [g for g in checked if not g["passed"]]
        if missed:
            raise GateFailed(
                "below the floor: "
                + "; ".join(
                    f"{g['metric']} {'not measured' if g['value'] is None else g['value']} "
                    f"< {g['min']:g} ({g['variant']})"
                    for g in missed
                )
            )
        if any(a.error for r in results for a in r.articles):
            raise typer.Exit(code=EXIT_PARTIAL)


def _only(cases: list[GoldCase], patterns: list[str], gold_dir: Path) -> list[GoldCase]:
    """The cases whose file name (or name without .json) matches one of `patterns`."""
    from fnmatch import fnmatchcase

    from summarizer.errors import InputError

    def names(case: GoldCase) -> tuple[str, str]:
        name = Path(case.file).name
        return name, name.removesuffix(".json")

    kept = [c for c in cases if any(fnmatchcase(n, p) for p in patterns for n in names(c))]
    if not kept:
        have = ", ".join(names(c)[1] for c in cases)
        raise InputError(
            f"--only {' '.join(patterns)}: no gold file in {gold_dir} matches; it has: {have}"
        )
    return kept


def _eval_links(
    gold_dir: Path, output: Path | None, floors: list[str], max_bytes: int | None
) -> None:
    """A directory of link pairs (eval/links.py): the matching decision, scored."""
    from summarizer.daily.config import ContinuityConfig
    from summarizer.errors import GateFailed
    from summarizer.eval import links

    gates = [links.parse_gate(f) for f in floors]
    from summarizer.config import Settings

    limit = max_bytes or Settings.model_fields["max_input_bytes"].default
    cases = links.load_link_set(gold_dir, max_bytes=limit)
    cfg = ContinuityConfig()
    result = links.score_pairs(cases, cfg.threshold, cfg.check_margin)
    checked = links.check_gates(result, gates)
    if output is not None:
        from summarizer.plumbing.atomic import write_text

        write_text(output, links.to_json(result, gold_dir=str(gold_dir), gates=checked))
    sys.stdout.write(links.render_text(result))
    missed = [g for g in checked if not g["passed"]]
    if missed:
        raise GateFailed(
            "below the floor: "
            + "; ".join(f"{g['metric']} {g['value']} < {g['min']:g}" for g in missed)
        )


@contextmanager
def _prompts_folder(prompt: str) -> Iterator[Path]:
    """`--prompt` as a prompts folder: a folder as it is; a template file alone in a
    temporary folder (its header's name says which template it overrides)."""
    import shutil
    import tempfile

    from summarizer.errors import ConfigError

    path = Path(prompt)
    if path.is_dir():
        yield path
        return
    if not path.is_file():
        raise ConfigError(f"--prompt {prompt}: no such prompts folder or template file")
    if path.suffix != ".j2":
        raise ConfigError(f"--prompt {prompt}: a template file ends in .j2")
    with tempfile.TemporaryDirectory(prefix="summarizer-prompt-") as tmp:
        shutil.copyfile(path, Path(tmp) / path.name)
        yield Path(tmp)


def _width() -> int:
    """The terminal's width; when piped, COLUMNS if set, else 160 (a log keeps every column)."""
    import os
    import shutil

    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) >= 40 else 160
