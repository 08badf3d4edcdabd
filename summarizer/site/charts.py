"""The site's pictures, drawn with matplotlib at build time as SVG files.

Why matplotlib: it is the best-kept plotting library in Python, draws SVG with no browser
and no JavaScript (a site opened from disk requests nothing), and its hatch patterns let
every series carry a label and a pattern, not colour alone, so the pictures read in print
and for colour-blind readers. It is heavy (numpy, fonts), so it is the optional `site`
extra: without it the site is still built, and each picture's place says how to get it.

The SVG is deterministic (fixed hash salt, no date), so a rebuild over the same data
writes byte-identical files and the build rewrites only what changed. Text stays text
(`svg.fonttype: none`): readable, searchable and escaped by matplotlib's SVG writer. Labels
from articles and the model are drawn with math text off, so a `$` is a dollar sign.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from summarizer.errors import PicturesUnavailable

EXTRA_HINT = "pictures need the site extra: pip install 'summarizer[site]' (matplotlib)"

# Each stance: a label (always printed in the cell), a pattern and a light fill.
STANCE_STYLE: dict[str, tuple[str, str]] = {
    "supports": ("", "#cfe8d5"),
    "opposes": ("xx", "#f3d0cc"),
    "mixed": ("//", "#f6e3c0"),
    "neutral": ("..", "#e4e4e8"),
    "unclear": ("\\\\", "#f2f2f2"),
}
ORIGIN_HATCHES = ("", "//", "xx", "..", "\\\\", "++", "oo")


@dataclass(frozen=True)
class StanceCell:
    row: str  # "actor — issue"
    day: str
    stance: str


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PicturesUnavailable(EXTRA_HINT) from None
    matplotlib.use("Agg", force=True)  # no display, no GUI toolkit, safe in threads
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "summarizer",
            "svg.fonttype": "none",
            "font.size": 10,
            "hatch.linewidth": 0.6,
        }
    )
    return plt


def available() -> bool:
    try:
        _pyplot()
    except PicturesUnavailable:
        return False
    return True


def _svg(fig: Any, plt: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def _short(text: str, n: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def stance_history(cells: Sequence[StanceCell], days: Sequence[str]) -> str:
    """Who held which stance on which issue, day by day: one row per actor and issue, one
    column per day, each cell labelled with the stance (and patterned by it)."""
    plt = _pyplot()
    from matplotlib.patches import Patch, Rectangle

    rows = list(dict.fromkeys(c.row for c in cells))
    at = {(c.row, c.day): c.stance for c in cells}
    width = max(4.0, 1.6 + 1.5 * len(days) + 0.055 * max((len(r) for r in rows), default=0))
    fig, ax = plt.subplots(figsize=(width, 0.9 + 0.5 * max(len(rows), 1)))
    for y, row in enumerate(rows):
        for x, day in enumerate(days):
            stance = at.get((row, day))
            if stance is None:
                ax.text(x + 0.5, y + 0.5, "—", ha="center", va="center", color="#888")
                continue
            hatch, fill = STANCE_STYLE.get(stance, ("", "#ffffff"))
            ax.add_patch(
                Rectangle((x + 0.04, y + 0.08), 0.92, 0.84, facecolor=fill, hatch=hatch,
                          edgecolor="#555", linewidth=0.6)
            )  # fmt: skip
            ax.text(
                x + 0.5, y + 0.5, stance, ha="center", va="center", fontweight="bold",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
                parse_math=False,
            )  # fmt: skip
    ax.set_xlim(0, max(len(days), 1))
    ax.set_ylim(max(len(rows), 1), 0)
    ax.set_xticks([x + 0.5 for x in range(len(days))], labels=list(days))
    ax.set_yticks([y + 0.5 for y in range(len(rows))], labels=[_short(r) for r in rows])
    for label in ax.get_yticklabels():
        label.set_parse_math(False)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.legend(
        handles=[
            Patch(facecolor=fill, hatch=hatch, edgecolor="#555", label=name)
            for name, (hatch, fill) in STANCE_STYLE.items()
        ],
        loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=5, frameon=False,
        fontsize=8, handlelength=2.2, handleheight=1.4,
    )  # fmt: skip
    return _svg(fig, plt)


def spend(rows: Sequence[dict[str, Any]]) -> str:
    """Calls and cost per day, stacked by front door (each with its own pattern and a
    legend), each bar labelled with its total."""
    plt = _pyplot()

    days = sorted({r["day"] for r in rows})
    origins = sorted({r["origin"] for r in rows})
    fig, (calls_ax, cost_ax) = plt.subplots(
        2, 1, figsize=(max(5.0, 1.2 + 0.7 * len(days)), 5.6), sharex=True
    )
    for ax, field, title in (
        (calls_ax, "calls", "Calls to the model per day"),
        (cost_ax, "cost_usd", "Cost per day (USD)"),
    ):
        bottom = [0.0] * len(days)
        for i, origin in enumerate(origins):
            values = [
                float(sum((r[field] or 0) for r in rows if r["day"] == d and r["origin"] == origin))
                for d in days
            ]
            ax.bar(
                range(len(days)), values, width=0.6, bottom=bottom, label=origin, facecolor="#dfe6ee",
                hatch=ORIGIN_HATCHES[i % len(ORIGIN_HATCHES)], edgecolor="#34495e", linewidth=0.6,
            )  # fmt: skip
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        for x, total in enumerate(bottom):
            text = f"{int(total)}" if field == "calls" else f"${total:.4f}"
            ax.annotate(text, (x, total), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 2), textcoords="offset points")  # fmt: skip
        ax.set_title(title, loc="left", fontsize=10)
        top = max(bottom, default=0.0)
        # From zero always (a day that cost nothing is a flat bar, not a dip below an axis).
        ax.set_ylim(0, top * 1.25 if top > 0 else 1.0)
        ax.set_xlim(-0.75, len(days) - 0.25)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    cost_ax.set_xticks(range(len(days)), labels=days, rotation=45 if len(days) > 6 else 0)
    calls_ax.legend(
        title="front door", frameon=False, fontsize=8, title_fontsize=8,
        loc="upper left", bbox_to_anchor=(1.01, 1.0),
    )  # fmt: skip
    return _svg(fig, plt)
