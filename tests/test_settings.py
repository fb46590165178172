"""Settings: YAML plus NEWSMON_* environment, with errors that name the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmon.settings import ConfigError, load_settings
from tests.conftest import ROOT


def test_shipped_config_is_valid_and_has_real_feeds() -> None:
    settings = load_settings(ROOT / "config" / "newsmon.yaml")
    assert len(settings.feeds) >= 10
    assert all(f.url.startswith(("http://", "https://")) for f in settings.feeds)
    assert settings.watchlist_dir == (ROOT / "config" / "watchlists").resolve()
    assert settings.fetch.allow_private_hosts is False


def test_environment_overrides_nested_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("relevance: {threshold: 0.4}\nfetch: {max_bytes: 1000}\n")
    monkeypatch.setenv("NEWSMON_RELEVANCE__THRESHOLD", "0.7")
    settings = load_settings(config)
    assert settings.relevance.threshold == 0.7
    assert settings.fetch.max_bytes == 1000


def test_unknown_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("relevance: {treshold: 0.4}\n")
    with pytest.raises(ConfigError, match=r"relevance\.treshold"):
        load_settings(config)


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("slack_webhook_url: https://hooks.slack.com/services/x\n")
    with pytest.raises(ConfigError, match="NEWSMON_SLACK_WEBHOOK_URL"):
        load_settings(config)


def test_corrupt_and_missing_files_are_named(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("feeds: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(config)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.yaml")


def test_feed_url_must_be_http(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("feeds: [{name: x, url: 'ftp://example.org/feed'}]\n")
    with pytest.raises(ConfigError, match="must start with http"):
        load_settings(config)
