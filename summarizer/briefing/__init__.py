"""Briefing as a service to the front doors: one document briefed and kept (keep.py)."""

from summarizer.briefing.keep import Kept, as_requested, brief_and_keep, cache_key, find_kept

__all__ = ["Kept", "as_requested", "brief_and_keep", "cache_key", "find_kept"]
