"""What a daily run reads: sources, window, limits, outputs and delivery.

From the `[daily]` table of the config file, overridden by flags, so a one-off run needs
no file. The Slack webhook may also come from SUMMARIZER_SLACK_WEBHOOK (it is a secret:
keep it out of files that are committed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from summarizer.config import config_section, load
from summarizer.errors import ConfigError

# Any format of the one table (render/formats.py); by default the three that read as files.
ALL_FORMATS: tuple[str, ...] = ("md", "json", "html")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


class ContinuityConfig(BaseModel):
    """[daily.continuity]: how today's stories join stories of earlier runs (continuity.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Join today's stories to earlier ones at all.")
    lookback_days: int = Field(
        default=14, ge=1, le=365, description="How many days back a story may be continued from."
    )
    threshold: float = Field(
        default=0.21,
        ge=0.0,
        le=1.0,
        description="Lowest match score that joins an earlier story (chosen on "
        "seeds/gold-links, docs/linking.md).",
    )
    check_margin: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="A score this close to the threshold (either side) is put to the model "
        "(the `link` kind), which joins only with a grounded yes; 0: never ask.",
    )
    embeddings: str | None = Field(
        default=None,
        description="An embeddings model (e.g. text-embedding-3-small): stories are also "
        "compared by the endpoint's /v1/embeddings (recorded, replayed and priced like any "
        "call; each text embedded once). Off by default: the threshold was chosen without.",
    )
    detach: list[str] = Field(
        default_factory=list,
        description="Story ids nothing new joins: today's articles that would continue one "
        "start a story of their own (split it off, or leave the old one alone).",
    )


class DailyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[str] = Field(default_factory=list, description="Feeds, URLs, directories, files.")
    since: str = Field("24h", description="Window: a duration (90m, 24h, 2d) or an ISO time.")
    date: str | None = Field(None, description="Day the brief is filed under; default today (UTC).")
    max_articles: int = Field(50, ge=1, description="Most articles briefed in one run.")
    feed_entries: int = Field(
        20,
        ge=1,
        description=(
            "Most entries taken from one feed, newest first (--feed-entries); the rest are "
            "counted under Not included."
        ),
    )
    max_cost: float | None = Field(None, gt=0, description="Stop spending past this many USD.")
    max_tokens: int | None = Field(None, gt=0, description="Stop past this many tokens in a run.")
    out_dir: Path = Field(Path("briefs"), description="Where YYYY-MM-DD.{md,json,html} go.")
    formats: list[str] = Field(
        default_factory=lambda: list(ALL_FORMATS),
        description="Files written: md, json, html, slack (render/formats.py).",
    )
    slack_webhook: SecretStr | None = Field(None, description="Slack incoming webhook URL.")
    site_url: str | None = Field(
        None,
        description="Where the reader's site (`summarizer site`) is published, e.g. "
        "https://briefs.example.org/: the html and slack outputs link each story to its page.",
    )
    kinds: dict[str, str] = Field(
        default_factory=dict,
        description="Per source (as listed in sources): the kind made of its articles "
        "([daily.kinds]); the others get the run's kind (--kind, or `kind` at the top level).",
    )

    continuity: ContinuityConfig = Field(
        default_factory=ContinuityConfig, description="Stories that continue across runs."
    )

    # daily --batch (summarizer/batch/): the per-article step through the Batch API.
    batch: bool = Field(
        False,
        description="Brief the articles through the provider's Batch API: half price, "
        "answered within 24 hours; a run that finds its batch unfinished exits 13 (pending).",
    )
    wait: bool = Field(
        False, description="With batch: poll until the batches end and finish the brief."
    )
    collect: bool = Field(
        False,
        description="With batch: finish the brief in this run: wait for the batches already "
        "submitted, and brief live whatever they do not cover (articles that arrived since).",
    )
    batch_followup: Literal["live", "batch"] = Field(
        "live",
        description="Where reasks (invalid or ungrounded answers) and retries of requests a "
        "batch did not answer go: live calls (the brief is done in the same run), or a "
        "follow-up batch (cheaper, one more round).",
    )
    batch_stories: Literal["live", "batch"] = Field(
        "live",
        description="Story synthesis: live calls once every article is in, or a second batch.",
    )
    batch_retries: int = Field(
        1,
        ge=0,
        le=5,
        description="How many more times a request is tried after a batch gave it no answer "
        "(failed, expired, cancelled, an error line, a lost output file).",
    )
    batch_poll: float = Field(
        60.0, gt=0, description="With --wait: seconds between polls of the batches' status."
    )
    batch_give_up_after: float = Field(
        3600.0,
        ge=0,
        description="Seconds past a batch's expires_at (its 24 h window) after which a batch "
        "the provider still calls running is given up as expired: its answered lines are "
        "kept, the rest go live or are listed as not included, and the day's lock is freed.",
    )
    batch_max_output_bytes: int = Field(
        1_000_000_000,
        gt=0,
        description="The largest batch output or error file downloaded (streamed to a "
        "temporary file, never held in memory); a larger one counts as lost.",
    )

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        from summarizer.render.formats import NAMES

        unknown = [f for f in value if f not in NAMES]
        if unknown:
            raise ValueError(f"unknown format {unknown[0]!r}; use {', '.join(NAMES)}")
        return value

    @field_validator("site_url")
    @classmethod
    def _site_url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.lower().startswith(("http://", "https://")) or any(
            c in value for c in " <>|\n\"'"
        ):
            raise ValueError("use the http(s) address the site is published at")
        return value.rstrip("/") + "/"

    def story_url(self) -> Callable[[str], str] | None:
        """A story id -> its page on the published site (stable: stories/ID.html)."""
        base = self.site_url
        return None if base is None else (lambda story_id: f"{base}stories/{story_id}.html")

    @model_validator(mode="after")
    def _kinds_name_sources(self) -> DailyConfig:
        stray = [s for s in self.kinds if s not in self.sources]
        if stray:
            raise ValueError(f"kinds names {stray[0]!r}, which is not one of the sources")
        return self

    @model_validator(mode="after")
    def _wait_needs_batch(self) -> DailyConfig:
        for flag, on in (("--wait", self.wait), ("--collect", self.collect)):
            if on and not self.batch:
                raise ValueError(f"{flag} is for batch runs: add --batch (or batch = true)")
        return self

    def day(self, now: datetime) -> str:
        if self.date is None:
            return now.astimezone(UTC).date().isoformat()
        try:
            return date.fromisoformat(self.date).isoformat()
        except ValueError:
            raise ConfigError(f"--date {self.date}: not a date; use YYYY-MM-DD") from None

    def window_start(self, now: datetime) -> datetime:
        m = _DURATION.match(self.since)
        if m:
            unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
            return now - timedelta(**{unit: float(m.group(1))})
        try:
            start = datetime.fromisoformat(self.since)
        except ValueError:
            raise ConfigError(
                f"--since {self.since}: not a duration or time; use e.g. 24h, 2d or 2026-11-24T06:00"
            ) from None
        return start if start.tzinfo else start.replace(tzinfo=UTC)


def load_daily_config(config_file: Path | None = None, **flags: Any) -> DailyConfig:
    """The [daily] table, then SUMMARIZER_SLACK_WEBHOOK, then flags (None = not given),
    through the one loader (config.load)."""
    env = {}
    if os.environ.get("SUMMARIZER_SLACK_WEBHOOK"):
        env["slack_webhook"] = os.environ["SUMMARIZER_SLACK_WEBHOOK"]
    table = config_section("daily", config_file)
    return load(DailyConfig, flags=flags, file_values=table, env_values=env, what="daily setting")
