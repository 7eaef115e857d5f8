"""The Prometheus HTTP API client: auth, TLS, timeouts, concurrency and clear failures.

Built on prometheus-api-client's ``PrometheusConnect`` and only the standard endpoints
(``/api/v1/query``, ``/api/v1/query_range``, ``/api/v1/label/<name>/values``), so Thanos,
Mimir, Cortex and VictoriaMetrics answer too.  Every failure becomes
:class:`~codex_bot.errors.PrometheusUnavailable` with one sentence naming the URL and what failed.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from codex_bot.errors import PrometheusUnavailable
from codex_bot.settings import SettingsError

if TYPE_CHECKING:
    from codex_bot.settings import Settings

K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector."""

    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: its labels and (time, value) points."""

    labels: Mapping[str, str]
    points: tuple[tuple[datetime, float], ...]


class PrometheusClient:
    """Queries one Prometheus-compatible endpoint; thread-safe, reuse one per process."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        bearer_token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
        ca_bundle: Path | None = None,
        max_workers: int = 16,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        # Sent with every (range) query.  nocache=1: VictoriaMetrics would otherwise evaluate a query for
        # the last 30 s (-search.latencyOffset) 30 s earlier, missing the newest samples, and move the
        # steps of a long range answer onto its cache's grid; Prometheus, Thanos and Mimir ignore it.
        self._query_params = {"timeout": f"{timeout:g}s", "nocache": "1"}
        all_headers = dict(headers or {})
        if bearer_token:
            all_headers["Authorization"] = f"Bearer {bearer_token}"
        self._session = session = requests.Session()
        session.verify = str(ca_bundle) if ca_bundle else verify_tls
        # One quick retry when the connection fails; a slow or failed query is never retried
        # (read=False re-raises the read timeout itself, so it is reported as a timeout).
        retry = Retry(total=1, connect=1, read=False, status=0, other=0, backoff_factor=0.1)
        self._prom = PrometheusConnect(
            url=self.url, headers=all_headers or None, auth=basic_auth, session=session, retry=retry, timeout=timeout
        )
        # PrometheusConnect mounts an adapter with requests' default pool of 10 connections; give every
        # worker thread its own connection so concurrent queries never queue for (or discard) one.
        session.mount(self.url, HTTPAdapter(max_retries=retry, pool_maxsize=max_workers))
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="prometheus")

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> PrometheusClient:
        """A client configured from the ``CODEX_BOT_PROMETHEUS_*`` settings (``url`` overrides the URL)."""
        return cls(
            url or settings.prometheus_url,
            timeout=settings.prometheus_timeout,
            bearer_token=_secret(settings.prometheus_bearer_token),
            basic_auth=_basic_auth(_secret(settings.prometheus_basic_auth)),
            headers=settings.prometheus_headers,
            verify_tls=settings.prometheus_verify_tls,
            ca_bundle=settings.prometheus_ca_bundle,
        )

    def query(self, promql: str, at: datetime) -> list[Sample]:
        """The instant vector of ``promql`` (a vector expression) evaluated at ``at``."""
        params = {"time": _unix(at), **self._query_params}
        with self._failures("a query"):
            result = self._prom.custom_query(promql, params=params)
            return [Sample(item["metric"], float(item["value"][1])) for item in result]

    def query_range(self, promql: str, start: datetime, end: datetime, step_seconds: int) -> list[RangeSeries]:
        """``promql`` evaluated at start, start + step, … ≤ end (times in UTC)."""
        with self._failures("a range query"):
            result = self._prom.custom_query_range(promql, start, end, f"{step_seconds}s", params=self._query_params)
            return [RangeSeries(item["metric"], _points(item["values"])) for item in result]

    def query_instants(
        self, promql: str, start: datetime, end: datetime, step_seconds: int
    ) -> dict[datetime, list[Sample]]:
        """``promql`` at start, start + step, … ≤ end, as one instant vector per instant: one range query, or,
        when a query frontend answered for other instants (it aligned the steps, for its cache), one
        instant query per instant."""
        step = timedelta(seconds=step_seconds)
        instants = [start + i * step for i in range(int((end - start) / step) + 1)]
        answers: dict[datetime, list[Sample]] = {moment: [] for moment in instants}
        for series in self.query_range(promql, start, end, step_seconds):
            for moment, value in series.points:
                answers.setdefault(moment, []).append(Sample(series.labels, value))
        if len(answers) > len(instants):
            return {moment: self.query(promql, moment) for moment in instants}
        return answers

    def label_values(self, label: str, match: Sequence[str] = ()) -> list[str]:
        """Every value of ``label`` on series matching any of the ``match`` selectors (all series if none)."""
        params = {"match[]": list(match)} if match else None
        with self._failures(f"the values of label {label!r}"):
            return sorted(str(value) for value in self._prom.get_label_values(label, params=params))

    def gather(self, calls: Mapping[K, Callable[[], T]], timeout: float | None = None) -> dict[K, T]:
        """Run the ``calls`` concurrently; all answers, or the first failure, within ``timeout`` seconds."""
        limit = self.timeout if timeout is None else timeout
        futures: dict[K, Future[T]] = {key: self._pool.submit(call) for key, call in calls.items()}
        done, pending = wait(futures.values(), timeout=limit, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in done:
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        if pending:
            raise PrometheusUnavailable(
                f"Prometheus at {self.url} did not answer {len(pending)} of {len(futures)} queries "
                f"within {limit:g} s; try a shorter range or raise CODEX_BOT_PROMETHEUS_TIMEOUT."
            )
        return {key: future.result() for key, future in futures.items()}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    @contextmanager
    def _failures(self, what: str) -> Iterator[None]:
        """Turn any transport or API failure into one clear :class:`PrometheusUnavailable`."""
        try:
            yield
        except PrometheusApiClientException as exc:
            raise PrometheusUnavailable(self._http_error(what, str(exc))) from None
        except requests.exceptions.Timeout:
            raise PrometheusUnavailable(
                f"Prometheus at {self.url} did not answer {what} within {self.timeout:g} s."
            ) from None
        except requests.exceptions.SSLError:
            raise PrometheusUnavailable(
                f"The TLS certificate of Prometheus at {self.url} could not be verified; set "
                "CODEX_BOT_PROMETHEUS_CA_BUNDLE (or CODEX_BOT_PROMETHEUS_VERIFY_TLS=false)."
            ) from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            raise PrometheusUnavailable(
                f"{self.url!r} is not a usable Prometheus URL; set CODEX_BOT_PROMETHEUS_URL like http://host:9090."
            ) from None
        except (requests.exceptions.InvalidJSONError, ValueError, KeyError, TypeError, IndexError):
            raise PrometheusUnavailable(
                f"{self.url} did not answer {what} like a Prometheus API; check CODEX_BOT_PROMETHEUS_URL."
            ) from None
        except requests.exceptions.RequestException as exc:
            raise PrometheusUnavailable(f"Cannot reach Prometheus at {self.url}: {_reason(exc)}.") from None

    def _http_error(self, what: str, message: str) -> str:
        status, detail = _parse_api_error(message)
        text = f"Prometheus at {self.url} answered HTTP {status} to {what}"
        if status in ("401", "403"):
            return text + ": check CODEX_BOT_PROMETHEUS_BEARER_TOKEN, _BASIC_AUTH or _HEADERS."
        return text + (f": {detail}" if detail else ".")


def _parse_api_error(message: str) -> tuple[str, str]:
    """(status, Prometheus's error text) from PrometheusConnect's "HTTP Status Code N (b'...')" message."""
    found = re.match(r"HTTP Status Code (\d+) \((b(['\"]).*\3)\)$", message, re.DOTALL)
    if not found:
        return "error", ""
    body = ast.literal_eval(found.group(2)).decode("utf-8", "replace")
    try:
        detail = str(json.loads(body).get("error", ""))
    except (ValueError, AttributeError):
        detail = " ".join(body.split())[:200]
    return found.group(1), detail


def _reason(exc: Exception) -> str:
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return found.group(1).strip().lower() if found else "connection failed"


def _points(values: list[list[Any]]) -> tuple[tuple[datetime, float], ...]:
    return tuple((datetime.fromtimestamp(float(t), UTC), float(v)) for t, v in values)


def _unix(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("query times must be timezone-aware")
    return moment.timestamp()


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _basic_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, colon, password = value.partition(":")
    if not colon:
        raise SettingsError("bad setting: CODEX_BOT_PROMETHEUS_BASIC_AUTH must be user:password")
    return user, password
