"""`summarizer eval GOLD_DIR`: brief a gold set, score it, compare variants, gate CI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from summarizer.cli import edge, options


def eval_(
    gold_dir: Annotated[
        Path, typer.Argument(help="Directory of gold files (*.json).", show_default=False)
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the scores as JSON to FILE (atomically).",
            show_default=False,
        ),
    ] = None,
    prompts: Annotated[
        list[str] | None,
        typer.Option(
            "--prompt",
            metavar="NAME",
            help="Prompt template; repeat to compare.",
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
            help="Exit 14 when the overall metric is below it (repeatable).",
            show_default=False,
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option("--threshold", help="Token-set similarity needed to match actors and topics."),
    ] = 0.8,
    config: options.Config = None,
    base_url: options.BaseUrl = None,
    mode: options.Mode = None,
    record: options.Record = None,
    replay: options.Replay = None,
    strict: options.Strict = False,
    timeout: options.Timeout = None,
    retries: options.Retries = None,
    max_reasks: options.MaxReasks = None,
    max_tokens: options.MaxTokens = None,
    max_bytes: options.MaxBytes = None,
    language: options.Language = None,
    concurrency: options.Concurrency = None,
    rpm: options.Rpm = None,
    verbose: options.Verbose = False,
) -> None:
    """Brief every gold article and score it: stance rows, labels, quotes, questions, cost."""
    edge.setup_logging(verbose)
    with edge.guarded():
        import asyncio

        from summarizer.daily import EXIT_PARTIAL
        from summarizer.errors import ConfigError, GateFailed
        from summarizer.eval import load_gold_set, parse_gate, run_variant, variants
        from summarizer.eval.report import render_text, to_json
        from summarizer.eval.run import check_gates, check_kind, labels

        if not 0 < threshold <= 1:
            raise ConfigError(f"--threshold {threshold:g}: give a number above 0 and at most 1")
        gates = [parse_gate(f) for f in floors or []]
        flags = dict(
            base_url=base_url, mode=mode, record_dir=record, replay_dir=replay,
            timeout=timeout, http_retries=retries, max_reasks=max_reasks,
            max_tokens=max_tokens, max_input_bytes=max_bytes, language=language,
            concurrency=concurrency, rpm=rpm,
        )  # fmt: skip
        base = options.settings_from_flags(config, strict=strict, **flags)
        for kind in kinds or []:
            check_kind(kind, "--kind", ConfigError)
        # Every gold file and article is read and checked before the first model call.
        cases = load_gold_set(
            gold_dir,
            max_bytes=base.max_input_bytes,
            check_kind=None if kinds else check_kind,
        )
        runs = variants(prompts or [], models or [], kinds or [])
        settings = [
            options.settings_from_flags(
                config, strict=strict, **flags, prompt=v.prompt, model=v.model
            )
            for v in runs
        ]
        from summarizer import prompting

        for s in settings:
            prompting.get_prompt(s.prompt)  # an unknown --prompt fails here, not mid-run
        names = labels(list(zip(runs, settings, strict=True)))
        results = [
            asyncio.run(run_variant(cases, s, v, threshold=threshold, label=name))
            for v, s, name in zip(runs, settings, names, strict=True)
        ]
        checked = check_gates(results, gates)
        if output is not None:
            from summarizer.atomic import write_text

            write_text(
                output,
                to_json(results, gold_dir=str(gold_dir), threshold=threshold, gates=checked),
            )
        width = None if sys.stdout.isatty() else 160
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
