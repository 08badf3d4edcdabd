"""`summarizer eval`: score briefs against a gold set, compare prompts, models and kinds.

gold.py     the gold file format (GoldFile, exported to schemas/) and loading a gold set
metrics.py  the metrics as pure functions on plain data (matching, P/R/F1, F_avg, dates)
score.py    one brief against its gold file -> counts; counts -> metrics; micro totals
run.py      a gold set through the normal pipeline, once per variant; gates; differences
report.py   the tables and the JSON
links.py    the `link` gold format: pairs of stories, scored as link precision, recall, F1
"""

from summarizer.eval.gold import GoldCase, GoldFile, load_gold_set
from summarizer.eval.metrics import DEFAULT_THRESHOLD
from summarizer.eval.run import Gate, Variant, VariantResult, parse_gate, run_variant, variants
from summarizer.eval.score import METRICS, Counts, compute, score_brief

__all__ = [
    "DEFAULT_THRESHOLD",
    "METRICS",
    "Counts",
    "Gate",
    "GoldCase",
    "GoldFile",
    "Variant",
    "VariantResult",
    "compute",
    "load_gold_set",
    "parse_gate",
    "run_variant",
    "score_brief",
    "variants",
]
