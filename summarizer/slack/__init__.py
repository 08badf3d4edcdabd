"""The Slack bot: `SlackBot` (the bolt app and its handlers), `create_slack_http_app`
(served at /slack/events) and `run_socket_mode`."""

from __future__ import annotations

from summarizer.slack.app import SlackBot, create_slack_http_app, run_socket_mode

__all__ = ["SlackBot", "create_slack_http_app", "run_socket_mode"]
