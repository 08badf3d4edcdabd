"""Daily briefs: many sources in, one brief of the day's stories out, safe to schedule."""

from summarizer.daily.config import DailyConfig, load_daily_config
from summarizer.daily.run import DailyResult, run_daily
from summarizer.errors import EXIT_PARTIAL

__all__ = ["EXIT_PARTIAL", "DailyConfig", "DailyResult", "load_daily_config", "run_daily"]
