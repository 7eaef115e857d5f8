"""A budget notice as Block Kit: which threshold was passed, spent so far, the forecast, and how it is made."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from codex_bot.budgets.forecast import Standing
from codex_bot.dashboard import DashboardLink
from codex_bot.delivery.message import Message
from codex_bot.formatting import humanize
from codex_bot.slack.blocks import MAX_HEADER, escape, when

FORECAST_METHOD = "forecast: linear, the month-so-far average rate held until the month ends"


def _percent(value: float) -> str:
    return humanize(value, "percent")


def passed_text(thresholds: list[float]) -> str:
    """``80 %`` or ``50 % and 80 %``."""
    shown = [_percent(t) for t in thresholds]
    return " and ".join([", ".join(shown[:-1]), shown[-1]] if len(shown) > 1 else shown)


def budget_message(
    standing: Standing, passed: list[float], tz: ZoneInfo, source: str, dashboard: DashboardLink | None = None
) -> Message:
    """The notice that the month's figure passed ``passed`` (the thresholds not announced before)."""
    budget, month = standing.budget, standing.month
    _, _, unit = budget.figure
    emoji = ":rotating_light:" if standing.spent >= budget.limit else ":money_with_wings:"
    title = f"Budget {budget.name} passed {passed_text(passed)} · {month.label}"
    spent = f"{humanize(standing.spent, unit)} of {humanize(budget.limit, unit)} ({_percent(standing.percent)})"
    forecast = f"{humanize(standing.forecast, unit)} ({_percent(standing.forecast_percent)} of the limit)"
    runs_out = standing.runs_out()
    lines = [
        f"*Spent this month*\n{spent}",
        f"*Forecast for {month.label}*\n{forecast}",
        f"*Scope*\n{escape(budget.scope)} · {budget.measure}",
        f"*Month*\n{when(month.start, tz)} → {when(month.end, tz)} {tz.key}",
    ]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=title[:MAX_HEADER], emoji=True)),
        SectionBlock(fields=[MarkdownTextObject(text=line) for line in lines]),
    ]
    if runs_out is not None:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":hourglass: At this rate the limit is reached on {when(runs_out, tz)} {tz.key}."
                )
            )
        )
    context = [f"as of {when(standing.at, tz)} {tz.key}", FORECAST_METHOD, f"source: {escape(source)}"]
    if dashboard is not None:
        context.append(dashboard.mrkdwn(month.start, standing.at, budget.filters))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(context))]))
    text = f"{emoji} Budget {budget.name} ({budget.scope}) passed {passed_text(passed)}: {spent}; forecast {forecast}"
    return Message(escape(text), blocks)
