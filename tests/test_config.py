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
