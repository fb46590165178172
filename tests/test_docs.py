"""The README documents every command and every configuration key that exists."""

from __future__ import annotations

import re

import pytest
import typer.main
from pydantic import BaseModel

from newsmon.cli.main import app
from newsmon.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    """Return every CLI command path ('run', 'alerts test', ...)."""
    group = typer.main.get_command(app)
    found: list[str] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        found.append(name)
        for sub in getattr(command, "commands", {}):
            found.append(f"{name} {sub}")
    return found


def _config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Return dotted config keys of the settings model (nested sections expanded)."""
    keys: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and name != "feeds":
            keys.extend(_config_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_in_the_readme_and_has_help(command: str) -> None:
    assert f"newsmon {command}" in README, f"README does not document `newsmon {command}`"
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0 and len(result.output) > 80


@pytest.mark.parametrize("key", _config_keys(Settings))
def test_every_config_key_is_in_the_readme(key: str) -> None:
    section, _, leaf = key.rpartition(".")
    secrets = {"slack_webhook_url": "NEWSMON_SLACK_WEBHOOK_URL", "webhook_url": "NEWSMON_WEBHOOK_URL"}
    if key in secrets:
        assert secrets[key] in README
        return
    # Keys may be documented one by one or grouped ("`fetch.*`" rows name their leaves).
    documented = f"`{key}`" in README or re.search(
        rf"`{re.escape(section)}\.[^`]*\b{re.escape(leaf)}\b", README
    ) or (section and f"`{section}.*`" in README and leaf in README)
    assert documented, f"README does not document the config key {key}"


def test_every_module_path_and_import_named_in_the_docs_exists() -> None:
    import importlib.util
    import re

    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             ROOT / "deployments" / "README.md"]
    missing = []
    for doc in texts:
        text = doc.read_text(encoding="utf-8")
        for path in re.findall(r"\b((?:newsmon|flows|tasks|tests)/[\w/]+\.py)\b", text):
            if not (ROOT / path).exists():
                missing.append(f"{doc.name}: {path}")
        for module in re.findall(r"\bpython -m ((?:newsmon|flows)[\w.]*)", text):
            if importlib.util.find_spec(module) is None:
                missing.append(f"{doc.name}: python -m {module}")
    assert missing == []
