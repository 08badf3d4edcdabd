"""Stories: grouping a day's articles, continuity across days, the question ledger."""
