"""All of codex-bot's settings, read once from the environment (and `.env`).

Our own settings use the ``CODEX_BOT_`` prefix; Slack's use Slack's usual names
(``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``, ``SLACK_SIGNING_SECRET``).  Read the settings
once at start-up with :func:`load_settings` and pass the parts down; never read them
from deep inside the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from typing_extensions import Annotated

UserLabelMode = Literal["email", "account_id", "hash", "none"]


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
    )

    # --- Prometheus (metrics/) ---
    prometheus_url: str = "http://127.0.0.1:9090"
    prometheus_timeout: float = Field(10.0, gt=0)
    prometheus_bearer_token: SecretStr | None = None
    prometheus_basic_auth: SecretStr | None = Field(None, description="user:password")
    prometheus_headers: dict[str, str] = Field(
        default_factory=dict, description='extra headers as JSON, e.g. {"X-Scope-OrgID": "team-a"}'
    )
    prometheus_verify_tls: bool = True
    prometheus_ca_bundle: Path | None = None
    timezone: str = "UTC"

    # --- telemetry (ingest, backfill) ---
    ingest_listen: str = "127.0.0.1:4318"
    ingest_max_body_bytes: int = Field(16 * 1024 * 1024, gt=0)
    ingest_dedup_records: int = Field(1_000_000, ge=0, description="how many record digests dedup remembers")
    ingest_max_series: int = Field(200_000, gt=0)
    user_label: UserLabelMode = "email"
    user_hash_salt: SecretStr = SecretStr("")

    # --- panels ---
    prices_file: Path | None = None

    # --- charts ---
    quickchart_url: str = "http://127.0.0.1:13400"
    chart_public_urls: bool = False
    chart_timeout: float = Field(15.0, gt=0)

    # --- Slack ---
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"))
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_api_url: str = "https://slack.com/api/"
    slack_mode: Literal["auto", "socket", "http"] = "auto"
    slack_listen: str = "127.0.0.1:3000"
    personal_data_channels: CsvList = Field(default_factory=list)
    personal_data_users: CsvList = Field(default_factory=list)
    admin_users: CsvList = Field(default_factory=list)

    # --- alerts, digests, state ---
    rules_dir: Path = Path("rules")
    digests_file: Path = Path("rules/digests.yaml")
    alert_interval_seconds: int = Field(60, gt=0)
    state_db: Path = Path("codex-bot.sqlite")
    database_url: SecretStr | None = Field(
        None, description="state in PostgreSQL instead of the state_db file: postgresql+psycopg://user@host:port/db"
    )

    # --- demo ---
    demo_channel: str = Field("", description="with SLACK_BOT_TOKEN, `codex-bot demo` posts to this channel id")

    _split_csv = field_validator("personal_data_channels", "personal_data_users", "admin_users", mode="before")(
        lambda cls, v: _csv(v)
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Berlin)") from exc
        return value

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
            raise ValueError("give a postgresql+psycopg://user@host:port/db URL (or leave it unset for the SQLite"
                             " file CODEX_BOT_STATE_DB)")
        return value

    @property
    def state_target(self) -> Path | str:
        """Where the state lives: the database URL when set, else the SQLite file ``state_db``."""
        return self.database_url.get_secret_value() if self.database_url else self.state_db


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


def load_settings(**overrides: object) -> Settings:
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
