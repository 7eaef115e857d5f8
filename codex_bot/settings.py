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
from typing_extensions import Annotated

from codex_bot.dashboard import check_template

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

    dashboard_url_template: str | None = Field(
        None, description="a link shown on replies, alerts and digests, e.g. https://grafana/d/x?from={from}&to={to}"
    )

    # --- alerts, digests, state ---
    rules_dir: Path = Path("rules")
    digests_file: Path = Path("rules/digests.yaml")
    budgets_file: Path = Path("rules/budgets.yaml")
    alert_interval_seconds: int = Field(60, gt=0)
    state_db: Path = Path("codex-bot.sqlite")

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

    @field_validator("dashboard_url_template")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        return check_template(value) if value else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

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


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad value raises :class:`SettingsError` naming its variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            given = error.get("input")
            shown = "" if isinstance(given, dict) or given is None else f" (got {given!r})"
            problems.append(f"{env_name(field)}: {error['msg']}{shown}")
        raise SettingsError("bad setting: " + "; ".join(problems)) from None
