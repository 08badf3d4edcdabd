"""Run a gold set through the normal pipeline, once per variant, and score every brief.

A variant is one (prompt, model, kind) combination; `--prompt A --prompt B` (prompts
folders or template files), `--model X --model Y` or `--kind K --kind L` make several,
run one after the other on the same gold set, each against its own settings. The briefs are made by the pipeline every front
door uses (`pipeline.brief_document`, with the same LLM client, recordings and
grounding), so an eval measures exactly what `summarizer brief` would produce.

An article whose brief fails (the endpoint, invalid output, quotes with --strict) is
reported with its error and scored as an empty brief; a user error (a missing recording,
bad settings) stops the whole run before anything is written.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from summarizer.config import Settings
from summarizer.errors import ConfigError, InputError, RunError
from summarizer.eval import metrics
from summarizer.eval.gold import GoldCase
from summarizer.eval.score import METRICS, ArticleScore, Counts, compute, failed, score_brief, total
from summarizer.llm import calls
from summarizer.llm.client import LLM
from summarizer.plumbing.concurrency import gather_or_cancel
from summarizer.sources.ingest import Document


def kind_checker(
    settings: Settings, error: type[InputError | ConfigError] = InputError
) -> Callable[[str, str], None]:
    """A check that refuses a kind the eval cannot make with these settings' registry
    (built-ins, plugins, --kind-file): InputError for a gold file's, ConfigError for --kind.
    A kind that merges briefs (story) rather than reading an article cannot brief one."""
    from summarizer.core.kinds import registry_for

    registry = registry_for(settings)
    usable = sorted(k.name for k in registry if k.takes == "article")

    def check(kind: str, where: str) -> None:
        if kind not in usable:
            raise error(
                f"{where}: kind {kind!r} cannot be evaluated; kinds that brief an article: "
                f"{', '.join(usable)} (see `summarizer kinds`)"
            )

    return check


async def make_brief(doc: Document, settings: Settings, kind: str, llm: LLM) -> dict[str, Any]:
    """The one place the eval asks the pipeline for output of a kind, as plain data."""
    from summarizer.core.pipeline import brief_document

    output = await brief_document(doc, settings, llm=llm, kind=kind)
    return output.model_dump(mode="json")


@dataclass(frozen=True)
class Variant:
    prompt: str | None = None  # a prompts folder or template file; None: the settings' own
    model: str | None = None  # None: the settings' model
    kind: str | None = None  # None: each gold file's own kind

    def parts(self, settings: Settings) -> dict[str, str]:
        return {
            "model": self.model or settings.model,
            "prompt": self.prompt or "default",
            "kind": self.kind or "gold",
        }

    def label(self, settings: Settings) -> str:
        return " ".join(f"{k}={v}" for k, v in self.parts(settings).items())


def labels(runs: Sequence[tuple[Variant, Settings]]) -> list[str]:
    """What tells the variants apart (`model=gpt-4.1-mini`), or the whole label for one."""
    parts = [v.parts(s) for v, s in runs]
    varying = [k for k in ("model", "prompt", "kind") if len({p[k] for p in parts}) > 1]
    if not varying:
        return [" ".join(f"{k}={v}" for k, v in p.items()) for p in parts]
    return [" ".join(f"{k}={p[k]}" for k in varying) for p in parts]


def variants(prompts: Sequence[str], models: Sequence[str], kinds: Sequence[str]) -> list[Variant]:
    """Every combination, in the order given; the first is the baseline of comparisons."""
    none: list[str | None] = [None]
    return [
        Variant(prompt=p, model=m, kind=k)
        for p, m, k in itertools.product(prompts or none, models or none, kinds or none)
    ]


@dataclass
class ArticleResult:
    file: str
    kind: str
    counts: Counts
    score: ArticleScore | None = None
    error: str | None = None


@dataclass
class VariantResult:
    variant: Variant
    label: str
    model: str
    prompt: str | None
    articles: list[ArticleResult] = field(default_factory=list)
    # Answers replayed from recordings, and recordings no live model produced: a score of
    # hand-written answers measures the scorer, not a model, and the report says so.
    replayed: bool = False
    fixture: bool = False

    @property
    def counts(self) -> Counts:
        return total(a.counts for a in self.articles)

    @property
    def overall(self) -> dict[str, float | int | None]:
        return compute(self.counts)


async def run_variant(
    cases: Sequence[GoldCase],
    settings: Settings,
    variant: Variant,
    *,
    threshold: float = metrics.DEFAULT_THRESHOLD,
    label: str | None = None,
) -> VariantResult:
    llm = LLM(settings)
    result = VariantResult(
        variant, label or variant.label(settings), settings.model, variant.prompt
    )

    async def one(case: GoldCase) -> ArticleResult:
        kind = variant.kind or case.gold.kind
        data = case.data
        with calls.collecting() as log:
            try:
                brief = await make_brief(case.document, settings, kind, llm)
            except RunError as exc:
                _note_origin(result, log)
                counts = failed(data)
                counts.tokens_in, counts.tokens_out = log.tokens_in, log.tokens_out
                counts.calls = len(log.records)
                # Cached tokens at their rate, unknown usage as None (calls.CallLog.cost_usd).
                counts.cost_usd = log.cost_usd(settings.model) if log.records else 0.0
                return ArticleResult(case.file, kind, counts, error=str(exc))
        _note_origin(result, log)
        sources = {
            str(s["id"]): case.document.text for s in brief.get("sources", []) if "id" in s
        } or {"S1": case.document.text}
        score = score_brief(data, brief, sources, threshold=threshold)
        return ArticleResult(case.file, kind, score.counts, score=score)

    try:
        result.articles = await gather_or_cancel(one(c) for c in cases)
    finally:
        await llm.aclose()
    return result


def _note_origin(result: VariantResult, log: calls.CallLog) -> None:
    result.replayed = result.replayed or log.replayed
    result.fixture = result.fixture or log.fixture


@dataclass(frozen=True)
class Gate:
    metric: str
    floor: float


def parse_gate(text: str) -> Gate:
    """`METRIC=VALUE`, e.g. `stance_f1=0.8`. Raises ConfigError naming what is wrong."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in METRICS:
        raise ConfigError(
            f"--min {text}: give METRIC=VALUE with METRIC one of {', '.join(METRICS)}"
        )
    try:
        floor = float(value)
    except ValueError:
        raise ConfigError(f"--min {text}: {value!r} is not a number") from None
    return Gate(name, floor)


def rounded(value: float | int | None) -> float | int | None:
    """Metrics as written and gated: shares to 4 decimals, so what is shown is what is judged."""
    return round(value, 4) if isinstance(value, float) else value


def check_gates(results: Sequence[VariantResult], gates: Sequence[Gate]) -> list[dict[str, Any]]:
    """One entry per gate and variant, with `passed`. A metric that was not measured (no
    gold rows, say) fails its gate: a floor nobody can check is not met."""
    out = []
    for r in results:
        overall = r.overall
        for g in gates:
            value = rounded(overall[g.metric])
            out.append(
                {
                    "variant": r.label,
                    "metric": g.metric,
                    "min": g.floor,
                    "value": value,
                    "passed": value is not None and value >= g.floor,
                }
            )
    return out


def differences(results: Sequence[VariantResult]) -> list[dict[str, Any]]:
    """Each later variant's overall metrics minus the first's (None where either is None)."""
    if len(results) < 2:
        return []
    base = results[0].overall
    out = []
    for r in results[1:]:
        other = r.overall
        delta: dict[str, float | int | None] = {}
        for m in METRICS:
            a, b = base[m], other[m]
            if a is None or b is None:
                delta[m] = None
            elif isinstance(a, int) and isinstance(b, int):
                delta[m] = b - a
            else:
                delta[m] = rounded(float(b) - float(a))
        out.append({"variant": r.label, "baseline": results[0].label, "overall": delta})
    return out
