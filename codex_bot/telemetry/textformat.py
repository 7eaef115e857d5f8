"""Pieces of the Prometheus text and OpenMetrics formats shared by ``/metrics`` and backfill files."""

from __future__ import annotations

from codex_bot.telemetry.contract import TOOL_DURATION_BUCKETS, MetricFamily

# ``le`` values of the contract histogram, identical in live exposition and backfilled blocks.
LE_VALUES: tuple[str, ...] = (*(repr(float(bound)) for bound in TOOL_DURATION_BUCKETS), "+Inf")


def escape(value: str) -> str:
    """A label value escaped for the text formats."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def label_pairs(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    """``a="x",b="y"`` (no braces)."""
    return ",".join(f'{name}="{escape(value)}"' for name, value in zip(names, values))


def number(value: float) -> str:
    """A sample value: integers without a decimal point, other floats in shortest round-trip form."""
    if isinstance(value, int):
        return str(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def sample_prefixes(
    family: MetricFamily, labels: tuple[str, ...], constant: tuple[tuple[str, str], ...] = ()
) -> list[str]:
    """The text up to the value of each sample line of one series, in :func:`series.sample_values` order.

    A counter has one line (``name_total{...} ``); a histogram one per bucket, then sum and count.
    ``constant`` labels (the live ingest's ``ingest_boot``) follow the family's own.
    """
    names = family.labels + tuple(name for name, _ in constant)
    pairs = label_pairs(names, labels + tuple(value for _, value in constant))
    if family.kind == "counter":
        return [f"{family.name}_total{{{pairs}}} "]
    sep = "," if pairs else ""
    lines = [f'{family.name}_bucket{{{pairs}{sep}le="{le}"}} ' for le in LE_VALUES]
    lines.append(f"{family.name}_sum{{{pairs}}} ")
    lines.append(f"{family.name}_count{{{pairs}}} ")
    return lines
