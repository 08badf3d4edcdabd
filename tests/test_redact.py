from summarizer.plumbing import redact


def test_url_drops_userinfo_and_secret_params():
    u = "http://user:sk-live-KEY123@llm.example:8080/v1?api-key=KEY&x=1&sig=abc"
    out = redact.url(u)
    assert "KEY" not in out and "user" not in out and "abc" not in out
    assert out.startswith("http://llm.example:8080/v1?")
    assert "x=1" in out


def test_url_without_secrets_is_unchanged():
    assert redact.url("https://example.com/a/b?page=2") == "https://example.com/a/b?page=2"
    assert redact.url(None) == ""


def test_text_removes_whole_and_cut_off_secrets():
    secret = "sk-proj-abcdefghijklmnop1234"
    msg = f"Incorrect API key provided: {secret[:12]}...; also {secret}"
    out = redact.text(msg, [secret])
    assert "abcdef" not in out and secret[:8] not in out


def test_text_masks_credential_shapes_even_unknown():
    msg = 'auth failed: "Authorization: Bearer sk-redte..." at http://u:p4ss@h/v1?token=t0k'
    out = redact.text(msg)
    assert "sk-redte" not in out and "p4ss" not in out and "t0k" not in out
    assert "Bearer [REDACTED]" in out
    assert "xoxb-123-456" not in redact.text("token xoxb-123-456 leaked")


def test_text_masks_webhook_paths_and_every_credential_in_a_url():
    said = "HTTP 404: no_service for /services/T000/B000/XOXSECRET1 (see services/T1/B2/SEC2)"
    out = redact.text(said)
    assert "XOXSECRET1" not in out and "SEC2" not in out and "HTTP 404: no_service" in out
    out = redact.text("POST http://ONLYKEY@llm.example/v1 and 'https://u:PW@h/x?api-key=AK1'")
    assert "ONLYKEY" not in out and "PW" not in out and "AK1" not in out
    assert "http://llm.example/v1" in out
    # A URL without a credential reads exactly as it was.
    plain = "see https://example.com/a%20b?q=x+y&page=2#top."
    assert redact.text(plain) == plain


LOGGING_SCRIPT = r"""
import logging, sys

# A library that set up its own handler before the CLI configured logging (as uvicorn does).
own = logging.getLogger("thirdparty")
own.addHandler(logging.StreamHandler(sys.stderr))
own.propagate = False

from summarizer.cli.edge import setup_logging

setup_logging(True)


def call(url):
    raise ConnectionError(f"cannot POST {url}")


try:
    call("http://user:KEYONE@llm.example/v1?api-key=KEYTWO")
except ConnectionError:
    logging.getLogger("openai").debug("Encountered Exception", exc_info=True)
    own.error("request failed", exc_info=True)


def where(url):
    logging.getLogger("httpx2").warning("here", stack_info=True)


where("https://hooks.example/services/T000/B000/KEYTHREE")
"""


def test_real_log_output_redacts_third_party_tracebacks(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = tmp_path / "log_it.py"
    script.write_text(LOGGING_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert "Traceback" in err and "ConnectionError: cannot POST" in err  # the records are there
    assert "llm.example/v1" in err and "Stack (most recent call last)" in err
    for secret in ("KEYONE", "KEYTWO", "KEYTHREE"):
        assert secret not in err, err


def test_uvicorns_own_handlers_redact_once_the_service_starts(capfd):
    import logging

    from uvicorn.config import LOGGING_CONFIG, Config

    from summarizer.serving.logs import redact_access_log

    Config(app=None, log_config=LOGGING_CONFIG)  # uvicorn's loggers and handlers, as served
    redact_access_log()
    try:
        raise ValueError("upstream http://u:UVKEY@h/v1?token=UVTOKEN")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    err = capfd.readouterr().err
    assert "Exception in ASGI application" in err and "ValueError: upstream" in err
    assert "UVKEY" not in err and "UVTOKEN" not in err
