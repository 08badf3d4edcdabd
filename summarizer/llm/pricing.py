"""What a run costs: USD per million tokens, by model name.

List prices as published by the providers when this table was written; a model that is
not here (a local model, a gateway alias) gets no cost rather than a guessed one.

- A dated snapshot (`gpt-4o-2024-08-06`, which OpenAI itself returns for `gpt-4o`) is
  priced as its model: the date suffix is dropped before the look-up.
- Cached prompt tokens (`usage.prompt_tokens_details.cached_tokens`: a prefix the provider
  saw recently) are billed at the model's cached rate; they are part of `prompt_tokens`.
- A call whose usage the endpoint did not report has an unknown cost (None), never 0.
- A call answered through the Batch API (`daily --batch`) costs half: OpenAI bills batch
  input, cached input and output at 50% of the rates below.
"""

from __future__ import annotations

import re

# model -> (input, cached input, output) in USD per 1M tokens
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-5": (1.25, 0.125, 10.00),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "gpt-5-nano": (0.05, 0.005, 0.40),
    # Embeddings (continuity.py): input only, no cached rate.
    "text-embedding-3-small": (0.02, 0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.13, 0.0),
    "text-embedding-ada-002": (0.10, 0.10, 0.0),
}
EMBEDDING_MODELS = frozenset(m for m in PRICES if m.startswith("text-embedding"))

# What the Batch API bills, as a share of the rates above (every rate: input, cached, output).
BATCH_DISCOUNT = 0.5

# `-2024-08-06` (OpenAI's snapshots) or `-20240806` at the end of a model name.
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


def price(model: str) -> tuple[float, float, float] | None:
    """The (input, cached input, output) rates of `model` or of the model it is a snapshot of."""
    found = PRICES.get(model)
    if found is None:
        found = PRICES.get(_SNAPSHOT.sub("", model))
    return found


def known(model: str) -> bool:
    return price(model) is not None


def cost_usd(
    model: str, tokens_in: int | None, tokens_out: int | None, cached: int = 0,
    *, batched: bool = False,
) -> float | None:  # fmt: skip
    """USD for these tokens (at the Batch API's price when `batched`); None when the
    model's price or the usage is unknown."""
    rates = price(model)
    if rates is None or tokens_in is None or tokens_out is None:
        return None
    cached = min(max(cached, 0), tokens_in)
    total = (tokens_in - cached) * rates[0] + cached * rates[1] + tokens_out * rates[2]
    if batched:
        total *= BATCH_DISCOUNT
    return round(total / 1_000_000, 6)
