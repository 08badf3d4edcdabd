from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.config import load_settings
from summarizer.errors import ConfigError


def test_precedence_flag_env_file_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('model = "from-file"\ntimeout = 12\nmax_reasks = 1\n')
    assert load_settings().model == "gpt-4o-mini"
    s = load_settings(cfg)
    assert (s.model, s.timeout, s.max_reasks) == ("from-file", 12, 1)
    monkeypatch.setenv("SUMMARIZER_MODEL", "from-env")
    assert load_settings(cfg).model == "from-env"
    assert load_settings(cfg, model="from-flag").model == "from-flag"


def test_openai_sdk_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abc")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    s = load_settings()
    assert s.api_key is not None and s.api_key.get_secret_value() == "sk-abc"
    assert s.base_url == "http://127.0.0.1:11434/v1"
    assert "sk-abc" not in repr(s)


def test_default_config_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "summarizer").mkdir()
    (tmp_path / "summarizer" / "config.toml").write_text('mode = "md_json"\n')
    assert load_settings().mode == "md_json"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("model = \n", "not valid TOML"),
        ('modle = "x"\n', "modle"),
        ('timeout = "soon"\n', "timeout"),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, fragment: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "none.toml")


def test_one_precedence_for_every_settings_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Model, service and daily settings come from one loader with one precedence:
    flag > environment > config file > default (issue 18.6)."""
    from summarizer.daily import load_daily_config
    from summarizer.serving.settings import load_service_settings

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'model = "file-model"\n'
        "[service]\nrate_limit_per_minute = 7\n"
        '[daily]\nsources = ["feed.xml"]\nslack_webhook = "https://hooks.example/file"\n'
    )
    assert load_service_settings(main_config=cfg).rate_limit_per_minute == 7
    assert load_daily_config(cfg).slack_webhook.get_secret_value() == "https://hooks.example/file"
    assert load_settings(cfg).model == "file-model"

    monkeypatch.setenv("SUMMARIZER_RATE_LIMIT_PER_MINUTE", "8")
    monkeypatch.setenv("SUMMARIZER_SLACK_WEBHOOK", "https://hooks.example/env")
    monkeypatch.setenv("SUMMARIZER_MODEL", "env-model")
    assert load_service_settings(main_config=cfg).rate_limit_per_minute == 8
    assert load_daily_config(cfg).slack_webhook.get_secret_value() == "https://hooks.example/env"
    assert load_settings(cfg).model == "env-model"

    service = load_service_settings(main_config=cfg, rate_limit_per_minute=9)
    daily = load_daily_config(cfg, slack_webhook="https://hooks.example/flag")
    assert service.rate_limit_per_minute == 9
    assert daily.slack_webhook.get_secret_value() == "https://hooks.example/flag"
    assert load_settings(cfg, model="flag-model").model == "flag-model"
    # A flag not given (None, or a repeatable flag never used) hides nothing.
    assert load_daily_config(cfg, sources=[]).sources == ["feed.xml"]
    assert load_settings(cfg, model=None).model == "env-model"


def test_a_refused_value_is_never_printed(tmp_path: Path) -> None:
    """One line naming the setting and its file, for every loader; the value is left out,
    even where a validator's own message would repeat it (it may be a token)."""
    from summarizer.daily import load_daily_config
    from summarizer.serving.settings import load_service_settings

    secret = "xoxb-0123456789-secret"
    service = tmp_path / "service.toml"
    service.write_text(f'slack_bot_token = "{secret}"\nunknown_key = "{secret}"\n')
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[daily]\nformats = ["{secret}"]\n')
    for load, where in (
        (
            lambda: load_service_settings(service),
            f"unknown_key: Extra inputs are not permitted (service config {service})",
        ),
        (
            lambda: load_daily_config(cfg),
            "daily setting formats: Value error, unknown format '(the value)'; use md",
        ),
    ):
        with pytest.raises(ConfigError) as err:
            load()
        said = str(err.value)
        assert where in said and said.endswith("; fix the value"), said
        assert secret not in said and "\n" not in said

    bad = tmp_path / "bad.toml"
    bad.write_text("slack_bot_token = \n")
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML .*; fix the file"):
        load_service_settings(bad)
