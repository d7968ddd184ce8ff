"""The gate's targets (issue 5), measured on the hand-written labelled set."""

import json

import pytest

from routing.sensitivity.evaluate import DEFAULT_SET, evaluate, load


@pytest.fixture(scope="module")
def result():
    return evaluate(DEFAULT_SET)


def test_labelled_set_is_large_and_balanced():
    examples = load(DEFAULT_SET)
    assert len(examples) >= 400
    sensitive = sum(e["sensitive"] for e in examples)
    assert 0.3 < sensitive / len(examples) < 0.7
    for category in ("custom", "financial", "health", "mnpi", "personal", "privilege", "secret"):
        assert sum(category in e["categories"] for e in examples) >= 15, category


@pytest.mark.parametrize("category", ["financial", "privilege", "secret"])
def test_full_recall_on_checksum_legend_and_secret_categories(result, category):
    counts = result["per_category"][category]
    missed = [m["text"][:80] for m in result["misses"] if category in m["missing"]]
    assert counts["recall"] == 1.0, missed


def test_overall_recall_at_least_90_percent(result):
    assert result["recall"] >= 0.90, [m["text"][:80] for m in result["misses"]]


def test_false_positive_rate_at_most_10_percent(result):
    assert result["false_positive_rate"] <= 0.10, result["false_positives"]


def test_evaluate_counts_a_planted_miss_and_false_positive(tmp_path):
    # The metric itself must be able to fail: a sensitive example the gate cannot see and an
    # ordinary one it flags.
    path = tmp_path / "tiny.jsonl"
    rows = [
        {"text": "my cousin's name is Bob", "sensitive": True, "categories": ["personal"]},
        {"text": "PRIVILEGED & CONFIDENTIAL", "sensitive": True, "categories": ["privilege"]},
        {"text": "SSN 123-45-6789", "sensitive": False, "categories": []},
        {"text": "what is a recipe for soup?", "sensitive": False, "categories": []},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    tiny = evaluate(path)
    assert tiny["recall"] == 0.5
    assert tiny["false_positive_rate"] == 0.5
    assert tiny["per_category"]["personal"]["recall"] == 0.0
    assert tiny["per_category"]["privilege"]["recall"] == 1.0
    assert tiny["per_category"]["personal"]["spurious"] == 1


def test_inconsistent_labels_are_rejected(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "x", "sensitive": True, "categories": []}))
    with pytest.raises(ValueError, match="disagrees"):
        evaluate(path)
