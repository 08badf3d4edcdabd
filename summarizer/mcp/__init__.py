"""The MCP front door: `summarizer mcp` serves briefs, daily briefs, stories and the
question ledger to chat assistants (Claude Desktop, Cursor, VS Code, ...) through the
Model Context Protocol, over stdio or Streamable HTTP (docs/mcp.md).

    server.py   the tools and resources, over the library (a brief: briefing.keep)
    reading.py  daily briefs, stories, the ledger and the kinds, as the CLI reads them
    rounds.py   sampling on sessions with no way back to the client (input required)
    access.py   who is calling (a key id over HTTP) and what they may read
    answers.py  structured results and tool errors
    http.py     Streamable HTTP behind the API's keys, limits and an Origin check
    model.py    the model behind the briefs: an endpoint, or the client's (sampling)

Needs the optional `mcp` extra (`pip install 'summarizer[mcp]'`).
"""
