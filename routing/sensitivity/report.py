"""The gate's answer: what was found, where, and under which category."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = (
    "custom",
    "financial",
    "health",
    "mnpi",
    "personal",
    "privilege",
    "secret",
)


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range [start, end) of the scanned text, in str indices (code points)."""

    start: int
    end: int
    category: str
    kind: str


@dataclass(frozen=True, slots=True)
class SensitivityReport:
    sensitive: bool
    categories: tuple[str, ...]
    spans: tuple[Span, ...]

    @classmethod
    def from_spans(cls, spans: Iterable[Span]) -> SensitivityReport:
        kept = _drop_nested(spans)
        categories = tuple(sorted({span.category for span in kept}))
        return cls(sensitive=bool(kept), categories=categories, spans=tuple(kept))

    def category_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(span.category for span in self.spans).items()))

    def to_json(self) -> dict:
        return {
            "sensitive": self.sensitive,
            "categories": list(self.categories),
            "spans": [[span.start, span.end, span.category] for span in self.spans],
        }


def _drop_nested(spans: Iterable[Span]) -> list[Span]:
    """Remove spans that lie inside another span of the same category.

    Several detectors can describe one finding (an international phone number also contains a
    national one); counting both would inflate the audit log's per-category counts.
    """
    ordered = sorted(set(spans), key=lambda s: (s.category, s.start, -s.end, s.kind))
    kept: list[Span] = []
    for span in ordered:
        last = kept[-1] if kept else None
        if last and last.category == span.category and span.end <= last.end:
            continue
        kept.append(span)
    kept.sort(key=lambda s: (s.start, s.end, s.category, s.kind))
    return kept
