"""The reader's site: a static archive of daily briefs, story timelines with pictures of
their stance history, the question ledger and spend, built from the store."""
