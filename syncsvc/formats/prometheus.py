"""Prometheus text exposition format, version 0.0.4, written by hand (pure).

A *family* is one metric name with its ``# HELP`` and ``# TYPE`` lines and its samples; a
*sample* is ``name{label="value",…} number``. Counters end in ``_total``; a summary without
quantiles has only its ``_sum`` and ``_count`` samples. Label values escape ``\\``, ``"`` and
newlines; help texts escape ``\\`` and newlines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MetricType = Literal["counter", "gauge", "summary"]


@dataclass(frozen=True, slots=True)
class Sample:
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    suffix: str = ""
    """``_sum`` or ``_count`` for a summary's samples, else empty."""


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    type: MetricType
    help: str
    samples: tuple[Sample, ...] = ()


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def exposition(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.type}")
        for sample in family.samples:
            labels = ",".join(
                f'{key}="{_escape_label(value)}"' for key, value in sorted(sample.labels.items())
            )
            name = family.name + sample.suffix
            lines.append(
                f"{name}{{{labels}}} {_number(sample.value)}"
                if labels
                else f"{name} {_number(sample.value)}"
            )
    return "\n".join(lines) + "\n"
