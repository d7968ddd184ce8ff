"""The public API: report shape, JSON form, and behaviour on empty, Unicode and huge input."""

import dataclasses

import pytest

from routing.sensitivity import CATEGORIES, SensitivityReport, Span, scan

MIXED = (
    "PRIVILEGED & CONFIDENTIAL\n"
    "Client Dana (dana.w@gmail.com, +44 20 7946 0958) pays to DE32865797543231948757."
)


def test_report_lists_sorted_unique_categories_and_sorted_spans():
    report = scan(MIXED)
    assert report.sensitive
    assert report.categories == ("financial", "personal", "privilege")
    starts = [(s.start, s.end) for s in report.spans]
    assert starts == sorted(starts)
    assert set(report.categories) <= set(CATEGORIES)


def test_category_counts_and_json_shape():
    report = scan(MIXED)
    assert report.category_counts() == {"financial": 1, "personal": 2, "privilege": 1}
    as_json = report.to_json()
    assert as_json["sensitive"] is True
    assert as_json["categories"] == ["financial", "personal", "privilege"]
    assert [MIXED[s:e] for s, e, _ in as_json["spans"]] == [
        "PRIVILEGED & CONFIDENTIAL",
        "dana.w@gmail.com",
        "+44 20 7946 0958",
        "DE32865797543231948757",
    ]


def test_report_and_span_are_frozen():
    report = scan(MIXED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.sensitive = False
    with pytest.raises(AttributeError):  # FrozenInstanceError is one too
        report.spans[0].start = 0


def test_nested_spans_of_one_category_are_reported_once():
    # "+1 (415) 496-0132" is an international number that contains a North American one.
    report = scan("call +1 (415) 496-0132")
    assert [
        (s.category, "call +1 (415) 496-0132"[s.start : s.end]) for s in report.spans
    ] == [("personal", "+1 (415) 496-0132")]


@pytest.mark.parametrize("text", ["", "   \n\t", "hello"])
def test_empty_and_plain_text_are_not_sensitive(text):
    report = scan(text)
    assert report == SensitivityReport(sensitive=False, categories=(), spans=())
    assert report.to_json() == {"sensitive": False, "categories": [], "spans": []}
    assert report.category_counts() == {}


def test_non_string_input_is_refused():
    with pytest.raises(TypeError):
        scan(b"PRIVILEGED & CONFIDENTIAL")


def test_offsets_are_str_indices_after_wide_and_combining_characters():
    # 'İ' lower-cases to two code points; emoji and CJK are single str characters. The span
    # must still point at the e-mail address in the original text.
    prefix = "İİİ 😀 北斗 e\u0301 "
    text = prefix + "contact ana@correo.es"
    span = scan(text).spans[0]
    assert text[span.start : span.end] == "ana@correo.es"
    assert span == Span(len(prefix) + 8, len(text), "personal", "email")


def test_legend_in_non_latin_text_is_found():
    text = "机密文件 PRIVILEGED & CONFIDENTIAL 请总结"
    assert scan(text).categories == ("privilege",)


def test_very_long_ordinary_input_is_scanned_completely():
    filler = "The quick brown fox jumps over the lazy dog 1.2.3. " * 20_000  # ~1 MB
    assert not scan(filler).sensitive
    tail = filler + "Card 4260 1815 9083 0167."
    spans = scan(tail).spans
    assert [tail[s.start : s.end] for s in spans] == ["4260 1815 9083 0167"]


@pytest.mark.parametrize(
    "hostile",
    [
        "a" * 200_000,
        "1" * 200_000,
        "1 " * 100_000,
        "@" * 100_000 + "a",
        "a@" * 100_000,
        "eyJ" * 70_000,
        "sk-" * 70_000,
        "://:" * 50_000,
        "password=" * 30_000,
        "Mr. " * 50_000,
        "-----BEGIN RSA PRIVATE KEY-----" * 5_000,
        "(" * 100_000 + "1",
        "+1 " * 70_000,
        "AB 12 " * 40_000,
    ],
    ids=lambda text: repr(text[:12]),
)
def test_pathological_input_finishes(hostile):
    # Guards against catastrophic backtracking: with a quadratic pattern these inputs would
    # run for hours. Only correctness is asserted; the suite's own runtime is the signal.
    report = scan(hostile)
    assert isinstance(report, SensitivityReport)
