"""Small utilities every layer uses: redaction, atomic writes, liveness, concurrency."""
