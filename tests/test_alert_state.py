"""The alert state machine on its own: `for`, hysteresis, minimum volume, no data and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from codex_bot.alerts.state import AlertState, Observation, group_key, step

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
FOR = timedelta(minutes=3)


def ok(value: float, holds: bool, resolved: bool | None = None) -> Observation:
    return Observation("ok", value, 90.0, holds, (not holds) if resolved is None else resolved)


def run(observations: list[Observation], prev: AlertState | None = None) -> list[AlertState]:
    """Feed one observation per minute, carrying the pending start like a running bot."""
    states = []
    for i, seen in enumerate(observations):
        at = T0 + i * MINUTE
        if seen.holds:
            carried = prev is not None and prev.state in ("pending", "firing")
            seen = Observation(
                seen.kind, seen.value, seen.threshold, True, seen.resolved, prev.active_since if carried else at
            )
        prev = step(prev, seen, "rule", {"model": "m"}, at, FOR)
        states.append(prev)
    return states


def names(states: list[AlertState]) -> list[str]:
    return [s.state for s in states]


def test_pending_for_the_for_period_then_firing():
    states = run([ok(80, True)] * 5)
    assert names(states) == ["pending", "pending", "pending", "firing", "firing"]
    assert states[3].fired_at == T0 + 3 * MINUTE and states[3].active_since == T0


def test_pending_that_stops_holding_goes_back_to_inactive_without_firing():
    states = run([ok(80, True), ok(80, True), ok(95, False), ok(80, True)])
    assert names(states) == ["pending", "pending", "inactive", "pending"]
    assert not any(s.firing for s in states)
    assert states[3].active_since == T0 + 3 * MINUTE  # a new run starts


def test_hysteresis_keeps_firing_until_the_resolve_condition_holds():
    between = Observation("ok", 92.0, 90.0, holds=False, resolved=False)  # above 90 but not yet above 95
    states = run([ok(80, True)] * 4 + [between, between, ok(96, False, resolved=True)])
    assert names(states)[3:] == ["firing", "firing", "firing", "inactive"]
    assert states[-1].fired_at is None


def test_low_volume_never_fires_and_ends_a_firing_alert():
    low = Observation("low_volume", 10.0, 90.0, reason="requests 3 is below the minimum 20")
    assert names(run([low] * 6)) == ["inactive"] * 6
    states = run([ok(80, True)] * 4 + [low])
    assert names(states)[-2:] == ["firing", "inactive"]


def test_no_data_ends_a_firing_alert_and_never_fires():
    gone = Observation("nodata", reason="no data in the last 1h")
    assert names(run([gone] * 3)) == ["nodata"] * 3
    states = run([ok(80, True)] * 4 + [gone])
    assert states[-1].state == "nodata" and not states[-1].firing


def test_errors_keep_a_firing_alert_open_and_fire_nothing_new():
    error = Observation("error", reason="Cannot reach Prometheus")
    states = run([ok(80, True)] * 4 + [error, error, ok(80, True)])
    assert names(states)[4:] == ["error", "error", "firing"]
    assert states[4].firing and states[-1].fired_at == states[3].fired_at  # the same episode
    assert names(run([error] * 5)) == ["error"] * 5 and not any(s.firing for s in run([error] * 5))


def test_first_evaluation_uses_the_reconstructed_pending_start():
    seen = Observation("ok", 80.0, 90.0, True, False, held_since=T0 - FOR)
    state = step(None, seen, "rule", {}, T0, FOR)
    assert state.state == "firing" and state.active_since == T0 - FOR


def test_group_keys_are_canonical():
    assert group_key({"b": "2", "a": "1"}) == group_key({"a": "1", "b": "2"}) == '{"a":"1","b":"2"}'
    assert group_key({}) == "{}"
