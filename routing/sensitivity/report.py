"""The gate's answer: what was found, where, and under which category."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from routing.sensitivity.context import ContextAssessment

# hr, litigation and client_confidence come from the contextual layer only (context.py): text
# that is sensitive for its situation rather than for an identifier or a stamp.
CATEGORIES: tuple[str, ...] = (
    "client_confidence",
    "custom",
    "financial",
    "health",
    "hr",
    "litigation",
    "mnpi",
    "personal",
    "privilege",
    "secret",
)


class Span(NamedTuple):
    """A half-open range [start, end) of the scanned text, in str indices (code points).

    Immutable like the report. A named tuple rather than a frozen dataclass: detectors create
    one per finding, and a frozen dataclass's __init__ sets each field through
    object.__setattr__, several times the cost of building a tuple.
    """

    start: int
    end: int
    category: str
    kind: str


@dataclass(frozen=True, slots=True)
class SensitivityReport:
    sensitive: bool
    categories: tuple[str, ...]
    spans: tuple[Span, ...]
    # What the contextual layer read, when any of its cues fired (whether or not it reached
    # the threshold): the explanation of a "context" span, or of why there is none.
    context: ContextAssessment | None = None

    @classmethod
    def from_spans(cls, spans: Iterable[Span], context: ContextAssessment | None = None
                   ) -> SensitivityReport:
        kept = _drop_nested(spans)
        categories = tuple(sorted({span.category for span in kept}))
        return cls(sensitive=bool(kept), categories=categories, spans=tuple(kept),
                   context=context)

    def explain(self) -> str:
        """In words: what was found, and what the contextual layer read."""
        if self.spans:
            kinds = ", ".join(f"{span.category}/{span.kind}" for span in self.spans)
            words = f"sensitive: {kinds}"
        else:
            words = "not sensitive"
        if self.context is not None:
            words += f"; {self.context.explain()}"
        return words

    def category_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(span.category for span in self.spans).items()))

    def to_json(self) -> dict:
        document = {
            "sensitive": self.sensitive,
            "categories": list(self.categories),
            "spans": [[span.start, span.end, span.category] for span in self.spans],
        }
        if self.context is not None:
            document["context"] = self.context.to_json()
        return document


def _drop_nested(spans: Iterable[Span]) -> list[Span]:
    """Remove spans that lie inside another span of the same category.

    Several detectors can describe one finding (an international phone number also contains a
    national one); counting both would inflate the audit log's per-category counts.
    """
    spans = list(spans)
    if len(spans) == 1:
        return spans  # the usual case: nothing nested, nothing to sort
    # Sorting and de-duplicating on plain tuples: a frozen dataclass hashes and compares in
    # Python code, several times slower, and the key already identifies each distinct span.
    by_key = {(span.category, span.start, -span.end, span.kind): span for span in spans}
    kept: list[tuple[int, int, str, str, Span]] = []
    last_category, last_end = "", -1
    for category, start, negative_end, kind in sorted(by_key):
        end = -negative_end
        if category == last_category and end <= last_end:
            continue
        kept.append((start, end, category, kind, by_key[category, start, negative_end, kind]))
        last_category, last_end = category, end
    kept.sort()
    return [entry[-1] for entry in kept]
