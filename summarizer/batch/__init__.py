"""`daily --batch`: a run's model calls through a provider's Batch API (OpenAI's `/v1/files`
and `/v1/batches`: half price, its own rate limit, answers within 24 hours).

- book.py: what the harness transport does with a chat request in a batch run: answer it
  from a collected batch, hold it for the next batch (`Deferred`), or send it live.
- api.py: the provider's Files and Batch API over the OpenAI SDK: upload, create, poll,
  download, and the output and error lines read into answers.
- rounds.py: one daily run's rounds: collect what finished, brief what can be briefed,
  submit what was held, and wait or say "pending" (exit 13).
"""
