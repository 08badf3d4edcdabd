"""A brief as Markdown: readable as plain text, and rendered with rich on a terminal."""

from __future__ import annotations

from summarizer.schemas import Brief

FIXTURE_NOTICE = (
    "> **Not model output.** This brief was replayed from recordings that were written by "
    "hand or served by a test server, not produced by a live model."
)
REPLAY_NOTICE = "> Replayed from recorded model responses; no model was called for this run."


def _cell(text: str) -> str:
    # A pipe or newline would break the table row.
    return " ".join(text.replace("|", "\\|").split())


def to_markdown(brief: Brief) -> str:
    p = brief.provenance
    out: list[str] = [f"# {brief.title}", ""]
    if p.fixture:
        out += [FIXTURE_NOTICE, ""]
    elif p.replayed:
        out += [REPLAY_NOTICE, ""]
    out += [brief.summary, ""]
    if brief.key_points:
        out += ["## Key points", ""] + [f"- {k}" for k in brief.key_points] + [""]
    out += ["## Stances", ""]
    if brief.stances:
        out += ["| Actor | Issue | Position | Stance | Evidence |", "|---|---|---|---|---|"]
        for row in brief.stances:
            evidence = "<br>".join(f"“{_cell(e.quote)}” ({e.source_id})" for e in row.evidence)
            out.append(
                f"| {_cell(row.actor)} | {_cell(row.issue)} | {_cell(row.position)} "
                f"| {row.stance.value} | {evidence} |"
            )
    else:
        out.append("_No attributable positions with verbatim evidence._")
    out.append("")
    if brief.open_questions:
        out += ["## Open questions", ""]
        for q in brief.open_questions:
            out += [
                f"- **{q.question}**",
                f"  - Why it matters: {q.why_it_matters}",
                f"  - What would resolve it: {q.what_would_resolve_it}",
            ]
        out.append("")
    out += ["## Sources", ""]
    for s in brief.sources:
        name = s.title or s.url or s.path or s.id
        where = s.url or s.path
        line = f"- **{s.id}**: {name}"
        if where and where != name:
            line += f" ({where})"
        out.append(line)
    out.append("")
    cost = "" if p.cost_usd is None else f", ${p.cost_usd:.4f}"
    dropped = (
        f", {p.ungrounded_dropped} ungrounded quote(s) dropped" if p.ungrounded_dropped else ""
    )
    origin = "replayed fixture" if p.fixture else "replayed" if p.replayed else "live"
    out.append(
        f"<sub>{p.model} · prompt {p.prompt_name} v{p.prompt_version} · "
        f"{p.created_at:%Y-%m-%d %H:%M UTC} · {p.llm_calls} call(s), "
        f"{p.tokens_in}+{p.tokens_out} tokens{cost}{dropped} · {origin}</sub>"
    )
    return "\n".join(out) + "\n"
