from summarizer import redact


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
