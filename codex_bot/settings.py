"""All of codex-bot's settings, read once from the environment (and `.env`).

Our own settings use the ``CODEX_BOT_`` prefix; Slack's use Slack's usual names
(``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``, ``SLACK_SIGNING_SECRET``).  Read the settings
once at start-up with :func:`load_settings` and pass the parts down; never read them
from deep inside the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from codex_bot.dashboard import check_template
from codex_bot.log_config import LogFormat

UserLabelMode = Literal["email", "account_id", "hash", "none"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable."""


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CODEX_BOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        use_attribute_docstrings=True,  # each field's docstring is its description (docs/configuration.md)
    )

    # --- Prometheus (metrics/) ---
    prometheus_url: str = "http://127.0.0.1:9090"
    """Base URL of the Prometheus HTTP API (or a compatible one: Thanos, Mimir's `/prometheus`, VictoriaMetrics)."""
    prometheus_timeout: float = Field(10.0, gt=0)
    """Seconds a query may take."""
    prometheus_bearer_token: SecretStr | None = None
    """Bearer token sent with every query."""
    prometheus_basic_auth: SecretStr | None = None
    """Basic auth as `user:password` (not together with a bearer token)."""
    prometheus_headers: dict[str, str] = Field(default_factory=dict)
    """Extra headers as JSON, e.g. `{"X-Scope-OrgID": "team-a"}` for a multi-tenant backend."""
    prometheus_verify_tls: bool = True
    """Verify the server's TLS certificate."""
    prometheus_ca_bundle: Path | None = None
    """CA bundle (PEM file) to verify the server's certificate against."""
    timezone: str = "UTC"
    """IANA time zone for calendar ranges (`today`, `last week`), chart axes and digests without their own."""

    # --- telemetry (ingest, backfill) ---
    ingest_listen: str = "127.0.0.1:4318"
    """`codex-bot ingest`'s address, HOST:PORT (`--listen` overrides it)."""
    ingest_max_body_bytes: int = Field(16 * 1024 * 1024, gt=0)
    """Larger OTLP request bodies (or their decompressed form) are refused with 413."""
    ingest_dedup_records: int = Field(1_000_000, ge=0)
    """Exact re-deliveries among this many recent log records are counted once (0 turns dedup off)."""
    ingest_max_series: int = Field(200_000, gt=0)
    """Most series ingest holds; increments that would create more are dropped and counted."""
    user_label: UserLabelMode = "email"
    """What the `user` label holds: `email`, `account_id`, `hash` (of the e-mail identity) or `none` (`all`)."""
    user_hash_salt: SecretStr = SecretStr("")
    """Salt for the `hash` user label; set a long random value, or hashes can be matched to known e-mails."""
    user_account_map: Path | None = None
    """YAML mapping of Slack e-mail or user id to Codex account id (for `user_label=account_id`)."""

    # --- panels ---
    prices_file: Path | None = None
    """YAML of model prices per 1M tokens (shape of `codex_bot/data/prices.yaml`) replacing or adding to the bundled ones."""

    # --- charts ---
    quickchart_url: str = "http://127.0.0.1:13400"
    """The QuickChart-compatible chart renderer: the bundled one, a self-hosted QuickChart or https://quickchart.io."""
    chart_public_urls: bool = False
    """Put chart URLs in messages for Slack to fetch instead of uploading PNGs (only for a renderer Slack can reach)."""
    chart_timeout: float = Field(15.0, gt=0)
    """Seconds a chart render may take; a message goes out without its chart after that."""

    # --- Slack ---
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"))
    """Bot User OAuth Token (`xoxb-…`), needed in every mode."""
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"))
    """App-level token (`xapp-…`, scope `connections:write`) for Socket Mode."""
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    """Signing secret that verifies Slack's requests in HTTP mode."""
    slack_api_url: str = "https://slack.com/api/"
    """Slack Web API base URL (a proxy, or the test emulator)."""
    slack_mode: Literal["auto", "socket", "http"] = "auto"
    """`socket`, `http`, or `auto` (Socket Mode when `SLACK_APP_TOKEN` is set)."""
    slack_listen: str = "127.0.0.1:3000"
    """HTTP mode's address, HOST:PORT (`codex-bot serve --listen` overrides it)."""
    personal_data_channels: CsvList = Field(default_factory=list)
    """Channels (ids or names, comma-separated) where anyone may see, and post, per-user figures."""
    personal_data_users: CsvList = Field(default_factory=list)
    """Slack user ids (comma-separated) who may see per-user figures privately, anywhere."""
    admin_users: CsvList = Field(default_factory=list)
    """Slack user ids (comma-separated) who may silence alerts and retry refused deliveries; told of refusals by DM."""
    fallback_channel: str = ""
    """Channel ID told about alerts and digests Slack refused for good (besides the admins' DMs)."""

    dashboard_url_template: str | None = Field(
        None, description="a link shown on replies, alerts and digests, e.g. https://grafana/d/x?from={from}&to={to}"
    )

    # --- alerts, digests, state ---
    rules_dir: Path = Path("rules")
    """Folder of alert rule files (`*.yaml`, except the digests file)."""
    digests_file: Path = Path("rules/digests.yaml")
    """The digest definitions."""
    budgets_file: Path = Path("rules/budgets.yaml")
    """Monthly budgets: per team, model or user, with thresholds announced once a month."""
    alert_interval_seconds: int = Field(60, gt=0)
    """Seconds between alert evaluation cycles."""
    state_db: Path = Path("codex-bot.sqlite")
    """SQLite state: alert states, silences, digest slots, outgoing messages."""
    database_url: SecretStr | None = None
    """State in PostgreSQL instead of the `state_db` file: `postgresql+psycopg://user@host:port/db`."""

    # --- demo ---
    demo_channel: str = ""
    """With `SLACK_BOT_TOKEN`, `codex-bot demo` posts to this channel id instead of printing."""

    # --- logging (every sub-command) ---
    log_level: LogLevel | None = None
    """Level of every logger; unset: INFO for `serve` and `ingest`, else WARNING for codex-bot and ERROR for libraries."""
    log_format: LogFormat = "text"
    """`text`, or `json`: one JSON object per line with `time`, `level`, `logger`, `message`, `exception`."""

    _split_csv = field_validator("personal_data_channels", "personal_data_users", "admin_users", mode="before")(
        lambda cls, v: _csv(v)
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() or None if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Berlin)") from exc
        return value

    @field_validator("dashboard_url_template")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        return check_template(value) if value else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("database_url")
    @classmethod
    def _state_database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            backend = make_url(value.get_secret_value()).get_backend_name()
        except ArgumentError:
            backend = ""
        if backend not in ("postgresql", "sqlite"):
            raise ValueError(
                "give a postgresql+psycopg://user@host:port/db URL (or leave it unset for the SQLite"
                " file CODEX_BOT_STATE_DB)"
            )
        return value

    @property
    def state_target(self) -> Path | str:
        """Where the state lives: the database URL when set, else the SQLite file ``state_db``."""
        return self.database_url.get_secret_value() if self.database_url else self.state_db

    @property
    def not_rules(self) -> list[Path]:
        """Files in the rules folder that are not alert rules: the digests and budgets files."""
        return [self.digests_file, self.budgets_file]


_SLACK_NAMES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
}


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return _SLACK_NAMES.get(field, "CODEX_BOT_" + field.upper())


def _secret(field: str) -> bool:
    """A setting whose value is never shown (tokens, passwords, a database URL with its password)."""
    info = Settings.model_fields.get(field)
    return info is not None and "SecretStr" in str(info.annotation)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value raises :class:`SettingsError` naming its variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            given = error.get("input")
            hidden = isinstance(given, dict) or given is None or _secret(field)
            shown = "" if hidden else f" (got {given!r})"
            problems.append(f"{env_name(field)}: {error['msg']}{shown}")
        raise SettingsError("bad setting: " + "; ".join(problems)) from None
