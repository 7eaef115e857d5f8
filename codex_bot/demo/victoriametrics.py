"""The real single-node ``victoria-metrics`` binary over a local data folder, on a free loopback port.

    vm = LocalVictoriaMetrics(data_dir, workdir)               # nothing scraped
    vm = LocalVictoriaMetrics(data_dir, workdir, scrape="host:port", scrape_interval=1)
    url = vm.start()   # http://127.0.0.1:PORT once /health answers; the Prometheus query API is there
    ...
    vm.stop()

Retention is ten years, as for :class:`~codex_bot.demo.prometheus.LocalPrometheus`.  With ``scrape``
it scrapes that target (e.g. ``codex-bot ingest``'s ``/metrics``) via ``-promscrape.config``.
"""

from __future__ import annotations

from pathlib import Path

from codex_bot.demo.prometheus import LocalPrometheus

RETENTION = "10y"


class LocalVictoriaMetrics(LocalPrometheus):
    """VictoriaMetrics as a child process; its scrape config and log live in ``workdir``."""

    NAME = "VictoriaMetrics"
    BINARY = "victoria-metrics"
    PACKAGE = "victoria-metrics"
    READY_PATH = "/health"

    def __init__(
        self,
        data_dir: Path,
        workdir: Path,
        binary: str | None = None,
        startup_timeout: float = 30.0,
        *,
        scrape: str | None = None,
        scrape_interval: int = 1,
    ) -> None:
        super().__init__(data_dir, workdir, binary, startup_timeout)
        self.scrape, self.scrape_interval = scrape, scrape_interval

    @property
    def config_file(self) -> Path:
        return self.workdir / "promscrape.yml"

    @property
    def log_file(self) -> Path:
        return self.workdir / "victoria-metrics.log"

    def command(self, binary: str, port: int) -> list[str]:
        command = [
            binary,
            f"-storageDataPath={self.tsdb}",
            f"-retentionPeriod={RETENTION}",
            f"-httpListenAddr=127.0.0.1:{port}",
            "-loggerLevel=WARN",
        ]
        if self.scrape:
            self.config_file.write_text(scrape_config(self.scrape, self.scrape_interval))
            command.append(f"-promscrape.config={self.config_file}")
        return command


def scrape_config(target: str, interval_seconds: int) -> str:
    """A ``-promscrape.config`` file with one job scraping ``target`` (host:port) every ``interval_seconds``."""
    return (
        f"global:\n  scrape_interval: {interval_seconds}s\n  scrape_timeout: {interval_seconds}s\n"
        f"scrape_configs:\n  - job_name: codex-bot-ingest\n    static_configs:\n      - targets: ['{target}']\n"
    )
