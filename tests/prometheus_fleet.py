"""A synthetic fleet backfilled through ``codex-bot backfill`` into a real Prometheus, or a real VictoriaMetrics
(used by conftest's ``fleet`` and ``backend_fleet``)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests

from codex_bot.cli import main as codex_bot
from codex_bot.demo.prometheus import LocalPrometheus, PrometheusStartError, free_port  # noqa: F401 - free_port for tests
from codex_bot.demo.victoriametrics import LocalVictoriaMetrics
from codex_bot.settings import load_settings
from codex_bot.simulate.event import SimEvent
from codex_bot.simulate.fleet import FleetConfig, next_full_hour, simulate
from codex_bot.simulate.incidents import Incident
from codex_bot.simulate.output import write_files
from codex_bot.simulate.truth import GroundTruth
from codex_bot.telemetry.labels import label_rule

UTC = UTC
FLEET_SEED = 20261127
FLEET_DEVELOPERS = 12
FLEET_DAYS = 8
# The backfill grid.  120 s halves promtool's work against 60 s and still leaves 2-3 samples in a
# 5-minute rate() window; panels tests align their evaluation times to it with Fleet.align().
STEP_SECONDS = 120
# The metrics backends the figure tests run against (``backend_fleet``'s params).
BACKENDS = ("prometheus", "victoriametrics")


@dataclass(frozen=True)
class Fleet:
    """What the ``fleet`` fixture yields: a real Prometheus (or, from ``backend_fleet``, VictoriaMetrics)
    holding the backfilled fleet, and its ground truth."""

    prometheus_url: str  # the Prometheus HTTP API of the backend
    start: datetime  # the fleet's events have start < time <= end (UTC)
    end: datetime  # the next full hour after the session started, so "now" queries see fresh samples
    step_seconds: int  # backfill grid; increase() at a grid time t counts exactly the events in (t-r, t]
    truth: GroundTruth
    events: list[SimEvent]
    incidents: tuple[Incident, ...]
    config: FleetConfig
    backend: str = "prometheus"  # one of BACKENDS

    def align(self, moment: datetime) -> datetime:
        """``moment`` rounded down to the backfill grid."""
        seconds = int(moment.timestamp()) // self.step_seconds * self.step_seconds
        return datetime.fromtimestamp(seconds, tz=UTC)

    def incident(self, kind: str) -> Incident:
        return next(i for i in self.incidents if i.kind == kind)

    def query(self, promql: str, at: datetime) -> list[tuple[dict[str, str], float]]:
        """Instant query straight over HTTP at ``at``: (labels without ``__name__``, value) per result."""
        reply = requests.get(
            f"{self.prometheus_url}/api/v1/query", params={"query": promql, "time": at.timestamp()}, timeout=30
        )
        body = reply.json()
        assert reply.status_code == 200 and body["status"] == "success", body
        return [
            ({k: v for k, v in item["metric"].items() if k != "__name__"}, float(item["value"][1]))
            for item in body["data"]["result"]
        ]


def planted_incidents(end: datetime) -> tuple[Incident, ...]:
    """One incident of each kind on working-day hours of the last two weekdays at least a day before ``end``."""
    late = _weekday_before(end.date() - timedelta(days=1))
    early = _weekday_before(late - timedelta(days=1))

    def at(day: date, hour: int, kind: str) -> Incident:
        start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        return Incident(kind, start, start + timedelta(hours=3))  # type: ignore[arg-type]

    return (
        at(late, 10, "success-drop"),
        at(late, 14, "p95-spike"),
        at(early, 10, "cache-fall"),
        at(early, 14, "token-spike"),
    )


def _weekday_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def require_victoriametrics() -> str:
    """The victoria-metrics path; a loud failure (not a skip) when missing: scripts/setup.sh installs it."""
    binary = shutil.which("victoria-metrics")
    if not binary:
        pytest.fail(
            "the real VictoriaMetrics is required: install Debian's 'victoria-metrics' package (make setup does)",
            pytrace=False,
        )
    return binary


def require_binaries() -> tuple[str, str]:
    """Prometheus and promtool paths; a loud failure (not a skip) when missing: CI installs them."""
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prometheus or not promtool:
        pytest.fail(
            "the real Prometheus is required: install Debian's 'prometheus' package (.ci/run does: "
            "apt-get install --no-install-recommends prometheus)",
            pytrace=False,
        )
    return prometheus, promtool


@dataclass(frozen=True)
class SimulatedFleet:
    """The simulated fleet as OTLP/JSON-lines files, before any backfill."""

    config: FleetConfig
    events: list[SimEvent]
    truth: GroundTruth
    files: tuple[Path, ...]

    def backfill(self, *target: str) -> None:
        """``codex-bot backfill FILES… TARGET`` (``--tsdb DIR`` or ``--to-url URL``) on the fleet's grid."""
        status = codex_bot(
            [
                "backfill",
                *map(str, self.files),
                *target,
                "--step",
                str(STEP_SECONDS),
                "--end",
                str(int(self.config.end.timestamp())),
            ]
        )
        if status != 0:
            pytest.fail(f"codex-bot backfill {' '.join(target)} exited {status}", pytrace=False)

    def served_by(self, url: str, backend: str) -> Fleet:
        config = self.config
        return Fleet(
            prometheus_url=url,
            start=config.start,
            end=config.end,
            step_seconds=STEP_SECONDS,
            truth=self.truth,
            events=self.events,
            incidents=config.incidents,
            config=config,
            backend=backend,
        )


def simulate_fleet(work: Path) -> SimulatedFleet:
    """Simulate the fleet ending at the next full hour and write it as OTLP/JSON lines under ``work/otlp``."""
    end = next_full_hour(datetime.now(UTC))
    config = FleetConfig(
        developers=FLEET_DEVELOPERS, days=FLEET_DAYS, end=end, seed=FLEET_SEED, incidents=planted_incidents(end)
    )
    events = list(simulate(config))
    written = write_files(events, work / "otlp", jsonl=True)
    return SimulatedFleet(config, events, GroundTruth(events, label_rule(load_settings())), tuple(written.paths))


class PrometheusServer(LocalPrometheus):
    """The product's :class:`LocalPrometheus` for tests: a failed start is a test failure, not an error."""

    def __init__(self, binary: str, tsdb: Path, work: Path) -> None:
        super().__init__(tsdb, work, binary=binary)

    @property
    def work(self) -> Path:
        return self.workdir

    def start(self, attempts: int = 3) -> str:
        try:
            return super().start(attempts)
        except PrometheusStartError as exc:
            pytest.fail(str(exc), pytrace=False)


class VictoriaMetricsServer(LocalVictoriaMetrics):
    """The product's :class:`LocalVictoriaMetrics` for tests: a failed start is a test failure, not an error."""

    def start(self, attempts: int = 3) -> str:
        try:
            return super().start(attempts)
        except PrometheusStartError as exc:
            pytest.fail(str(exc), pytrace=False)
