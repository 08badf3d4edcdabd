"""Reading sources: files, standard input, web pages (SSRF-safe fetching, extraction) and feeds."""
