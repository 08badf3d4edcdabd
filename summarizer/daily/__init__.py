"""Daily briefs: many sources in, one brief of the day's stories out, safe to schedule."""

from summarizer.daily.config import DailyConfig, load_daily_config
from summarizer.daily.run import EXIT_PARTIAL, DailyResult, run_daily

__all__ = ["EXIT_PARTIAL", "DailyConfig", "DailyResult", "load_daily_config", "run_daily"]
