"""A minimal reader of the Prometheus text exposition format, independent of the code under test."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


def _labels(text: str) -> dict[str, str]:
    labels, position = {}, 0
    while position < len(text):
        match = _LABEL.match(text, position)
        if not match:
            raise ValueError(f"bad label set: {text!r}")
        labels[match[1]] = re.sub(r'\\[\\"n]', lambda m: _UNESCAPE[m[0]], match[2])
        position = match.end()
    return labels


def parse(text: str) -> list[Sample]:
    """Every sample line of an exposition; comments and blank lines skipped."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if not match:
            raise ValueError(f"bad sample line: {line!r}")
        samples.append(Sample(match[1], _labels(match[2] or ""), float(match[3])))
    return samples


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """Sum of ``name`` over all series whose labels include ``labels``."""
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))
