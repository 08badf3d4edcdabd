"""A failed Slack webhook delivery names the failure, never the webhook's secret path
(issue 19.7), in the real output of a real `summarizer daily` process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from summarizer.testing.openai_server import FakeOpenAI
from tests.conftest import ROOT
from tests.test_daily import articles  # noqa: F401  (a fixture)

SECRET = "Xq7SECRETPATHtoken"


class _EchoingWebhook(BaseHTTPRequestHandler):
    """Answers as Slack does for a revoked hook, repeating the path it was called on."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        body = f"no_service: invalid_token for {self.path}".encode()
        self.send_response(404)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_failed_delivery_never_logs_the_webhook_path(tmp_path: Path, articles: Path) -> None:  # noqa: F811
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingWebhook)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/{SECRET}"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SUMMARIZER_SLACK_WEBHOOK": hook}
    try:
        with FakeOpenAI() as model:
            for verbose in ([], ["-v"]):
                cmd = [sys.executable, "-m", "summarizer", "daily", "-s", str(articles),
                       "--out-dir", str(tmp_path / "out"), "--store", str(tmp_path / "s.db"),
                       "--base-url", model.base_url, "--date", "2026-11-25", *verbose]  # fmt: skip
                done = subprocess.run(
                    cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
                )
                said = done.stdout + done.stderr
                assert "delivery to 127.0.0.1" in said and "HTTP 404" in said, said
                assert SECRET not in said and "B000" not in said, said
    finally:
        server.shutdown()
        server.server_close()
