"""The App Home tab: on ``app_home_opened`` and on each range choice, gather the dashboard and publish it.

Its listeners (:mod:`codex_bot.slack.listeners.events` and ``.actions``) ack, then :meth:`Home.publish` (panels through the panel service, alerts and
digests from the state and the digests file, the chart from the renderer).  Each viewer's range is
remembered in the state store (``kv`` key ``home/range/<user id>``).  The viewer's own usage is
always theirs to see (the tab is private to them); per-user rows of others follow the ``/codex``
access policy (CODEX_BOT_PERSONAL_DATA_USERS).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.views import View

from codex_bot.access import AccessDenied, AccessPolicy
from codex_bot.alerts.records import AlertRecords
from codex_bot.charts.renderer import ChartRenderer
from codex_bot.charts.spec import chart_config
from codex_bot.clock import Clock
from codex_bot.commands.codex import INTERNAL_ERROR
from codex_bot.digests.definitions import DigestFile
from codex_bot.errors import UserError
from codex_bot.identity import Identities
from codex_bot.panels.personal import PersonalUsage, personal_usage
from codex_bot.panels.request import PanelRequest
from codex_bot.panels.result import PanelResult
from codex_bot.panels.service import PanelRunner
from codex_bot.slack.blocks import notice_blocks
from codex_bot.slack.home_view import (
    CALLBACK_ID,
    CHART_PANEL,
    HEADLINE_PANELS,
    RANGES,
    YOU_PANELS,
    Chart,
    FiringAlert,
    HomeData,
    NextDigest,
    home_view,
    picker,
)
from codex_bot.slack.replies import chart_filename
from codex_bot.slack.slack_errors import reason
from codex_bot.slack.slack_transport import SLACK_FAILURES
from codex_bot.slack.surfaces import Surfaces
from codex_bot.store import Store

log = logging.getLogger(__name__)

DEFAULT_HOME_RANGE = "7d"
RANGE_KEY = "home/range/"  # + user id
CHART_KEY = "home/chart/"  # + range and window end: the id of the chart uploaded for it


@dataclass
class Home:
    panels: PanelRunner
    identities: Identities
    access: AccessPolicy
    store: Store
    digests: DigestFile
    surfaces: Surfaces
    renderer: ChartRenderer | None
    tz: ZoneInfo
    source: str
    clock: Clock

    # --- the viewer's range ---
    def range_of(self, user_id: str) -> str:
        stored = self.store.value(RANGE_KEY + user_id)
        return stored if stored in RANGES else DEFAULT_HOME_RANGE

    def choose(self, user_id: str, range_text: str) -> None:
        if range_text not in RANGES:
            raise UserError(f"{range_text!r} is not one of the ranges: {', '.join(RANGES)}.")
        with self.store.transaction() as tx:
            self.store.put_value(tx, RANGE_KEY + user_id, range_text)

    # --- the dashboard ---
    def data(self, user_id: str) -> HomeData:
        """Everything the viewer's tab shows, as of the clock."""
        range_text, at = self.range_of(user_id), self.clock()
        names = (*HEADLINE_PANELS, CHART_PANEL, *(("users",) if self._may_see_people(user_id) else ()))
        results = dict(zip(names, self.panels.run_many([PanelRequest(n, range_text) for n in names], at)))
        data = HomeData(
            range_text,
            {n: results[n] for n in HEADLINE_PANELS},
            self.tz,
            self.source,
            users=results.get("users"),
            alerts=self.firing(),
            digests=self.next_digests(at),
        )
        data.chart = self.chart(results[CHART_PANEL], data.notes)
        data.you = self.you(user_id, range_text, at, data)
        return data

    def _may_see_people(self, user_id: str) -> bool:
        try:
            self.access.check_personal(user_id, "", None, public=False)
        except AccessDenied:
            return False
        return True

    def you(self, user_id: str, range_text: str, at: datetime, data: HomeData) -> PersonalUsage | None:
        """The viewer's own usage (team tokens and cost come from the headline); None with a note if none."""
        try:
            label = self.identities.label(user_id)
            usage = personal_usage(self.panels, label, range_text, at, YOU_PANELS, ("conversations",))
        except UserError as exc:
            data.notes.append(f"Your usage: {exc}")
            return None
        return PersonalUsage(
            label, usage.mine, {**usage.team, "tokens": data.headline["tokens"], "cost": data.headline["cost"]}
        )

    def chart(self, result: PanelResult, notes: list[str]) -> Chart | None:
        """The chart as a public URL, else a PNG uploaded once per range and window end."""
        config = chart_config(result, self.tz) if self.renderer is not None and result.has_data else None
        if config is None or self.renderer is None:
            return None
        alt = f"{result.title} chart, {result.range.label}"
        key = f"{CHART_KEY}{result.range.label}/{int(result.range.end.timestamp())}"
        try:
            url = self.renderer.url(config)
            if url is not None:
                return Chart(alt, url=url)
            file_id = self.store.value(key)
            if file_id is None:
                file_id = self.surfaces.upload_image(self.renderer.png(config), chart_filename(result), alt)
                with self.store.transaction() as tx:
                    self.store.put_value(tx, key, file_id)
        except UserError as exc:  # ChartUnavailable: the figures still show
            notes.append(str(exc))
            return None
        except SLACK_FAILURES as exc:  # the upload failed: the chart is missing, said in the view
            log.warning("home chart not uploaded: %s", reason(exc))
            notes.append(f"Chart not uploaded: {reason(exc)}.")
            return None
        return Chart(alt, file_id=file_id)

    def firing(self) -> list[FiringAlert]:
        """Open alert episodes, with a link to the message that announced each one."""
        alerts = []
        for episode in AlertRecords(self.store).needing_notice():
            if not episode.open:
                continue
            ref = self.store.message_ref(episode.posted_key) if episode.posted_key else None
            link = self.surfaces.permalink(ref) if ref else None
            alerts.append(FiringAlert(episode.rule, episode.severity, episode.labels, episode.fired_at, link))
        return alerts

    def next_digests(self, at: datetime) -> list[NextDigest]:
        upcoming = [(d, d.trigger.get_next_fire_time(None, at)) for d in self.digests.digests]
        return sorted(
            (NextDigest(d.name, d.channel, when) for d, when in upcoming if when is not None), key=lambda d: d.at
        )

    def view(self, user_id: str) -> View:
        """The viewer's tab; a failure the viewer can act on (Prometheus down…) is shown in it."""
        try:
            return home_view(self.data(user_id))
        except UserError as exc:
            text = str(exc)
        except Exception:  # a bug: logged with its trace; the viewer gets a short note
            log.exception("App Home of %s failed", user_id)
            text = INTERNAL_ERROR
        blocks = [picker(self.range_of(user_id)), *notice_blocks(text)]
        return View(type="home", callback_id=CALLBACK_ID, blocks=blocks)

    def publish(self, user_id: str) -> View:
        view = self.view(user_id)
        self.surfaces.publish_home(user_id, view)
        return view
