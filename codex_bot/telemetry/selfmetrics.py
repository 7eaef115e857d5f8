"""The ingest server's own metrics (``codex_bot_ingest_*``), all born at 0 when the server starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from codex_bot.telemetry.pipeline import Outcomes

RECORD_OUTCOMES = ("counted", "ignored", "duplicate")
REQUEST_OUTCOMES = ("accepted", "ignored_signal", "malformed", "too_large", "unsupported", "not_found")


@dataclass
class IngestStats:
    records: Outcomes = field(default_factory=Outcomes)
    requests: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REQUEST_OUTCOMES, 0))

    def exposition(self, series: int, max_series: int, refused: int) -> str:
        records = {name: getattr(self.records, name) for name in RECORD_OUTCOMES}
        lines = [
            "# HELP codex_bot_ingest_records_total Log records received, by what became of them.",
            "# TYPE codex_bot_ingest_records_total counter",
            *(f'codex_bot_ingest_records_total{{outcome="{k}"}} {v}' for k, v in records.items()),
            "# HELP codex_bot_ingest_requests_total HTTP requests, by outcome.",
            "# TYPE codex_bot_ingest_requests_total counter",
            *(f'codex_bot_ingest_requests_total{{outcome="{k}"}} {v}' for k, v in self.requests.items()),
            "# HELP codex_bot_ingest_series Series held (all codex_* series).",
            "# TYPE codex_bot_ingest_series gauge",
            f"codex_bot_ingest_series {series}",
            "# HELP codex_bot_ingest_max_series The series cap (CODEX_BOT_INGEST_MAX_SERIES).",
            "# TYPE codex_bot_ingest_max_series gauge",
            f"codex_bot_ingest_max_series {max_series}",
            "# HELP codex_bot_ingest_series_refused_total Increments dropped because a new series would exceed the cap.",
            "# TYPE codex_bot_ingest_series_refused_total counter",
            f"codex_bot_ingest_series_refused_total {refused}",
        ]
        return "\n".join(lines) + "\n"
