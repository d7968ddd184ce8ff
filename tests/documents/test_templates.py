"""Templates: the shipped ones, the user's own in <data dir>/templates/, and a bad one as
one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.documents.templates import TemplateError, load_templates, parse_template
from tests.conftest import run_cli

GOOD = """name = "dates"
description = "The dates in a contract"
output = "json"
prefix = "You list dates."
document = "{name}\\n{text}"

[schema]
type = "object"
required = ["dates"]
[schema.properties.dates]
type = "array"
items = { type = "string" }
"""

PRIVILEGE_LOG_FIELDS = ("date", "doc_type", "author", "recipients_to", "recipients_cc",
                        "recipients_bcc", "description", "privilege_basis", "treatment",
                        "attorneys")


def test_shipped_templates_cover_summary_extraction_classification_and_privilege_log() -> None:
    catalog = load_templates(None)
    assert {"summary", "extraction", "classification", "privilege-log"} <= set(
        catalog.templates)
    log = catalog.get("privilege-log")
    assert log.fields == PRIVILEGE_LOG_FIELDS
    assert set(log.schema["properties"]["privilege_basis"]["enum"]) >= {
        "attorney-client", "work product"}
    assert log.schema["properties"]["treatment"]["enum"] == ["withheld", "redacted"]
    assert catalog.get("classification").schema["properties"]["label"]["enum"] == [
        "responsive", "not responsive", "privileged", "junk"]
    assert catalog.get("summary").schema is None


def test_the_prefix_is_the_same_for_every_document_and_braces_in_text_stay() -> None:
    template = load_templates(None).get("summary")
    one = template.prompt_for("a.txt", "function f() { return {name}; }", {"From": "Ann"})
    assert "function f() { return {name}; }" in one and "From: Ann" in one
    assert template.prefix and template.prefix not in one  # the prefix is the system message


def test_a_user_template_is_added_and_validates_results(stillroom_home: Path) -> None:
    (stillroom_home / "templates").mkdir(parents=True)
    (stillroom_home / "templates" / "dates.toml").write_text(GOOD, encoding="utf-8")
    template = load_templates(stillroom_home).get("dates")
    template.validate({"dates": ["2024-01-01"]})
    with pytest.raises(ValueError, match="dates/0: 7 is not of type 'string'"):
        template.validate({"dates": [7]})


@pytest.mark.parametrize(("edit", "field", "hint"), [
    (lambda t: t.replace('name = "dates"', 'name = "Dates!"'), "name", "lower-case"),
    (lambda t: t.replace('prefix = "You list dates."\n', ""), "prefix", "missing"),
    (lambda t: t.replace("{name}\\n{text}", "{name}"), "document", "{text}"),
    (lambda t: t.replace('output = "json"', 'output = "yaml"'), "output", '"text" or "json"'),
    (lambda t: "colour = 3\n" + t, "colour", "unknown field"),
    (lambda t: t.replace('type = "array"', 'type = "arrray"'), "schema/properties/dates/type",
     "not a valid JSON schema"),
    (lambda t: t.replace('description = "The dates in a contract"',
                         'description = "x"\nmax_tokens = 0'), "max_tokens", "1 to"),
    (lambda t: t.replace('document = "{name}\\n{text}"', 'document = "{text}"\n'
                         'labels = ["a", "a"]'), "labels", "twice"),
    (lambda t: t.replace('output = "json"', "output = json"), None, "not valid TOML"),
])
def test_a_bad_user_template_is_one_line_naming_file_and_field(
        stillroom_home: Path, edit, field: str | None, hint: str) -> None:
    folder = stillroom_home / "templates"
    folder.mkdir(parents=True)
    path = folder / "dates.toml"
    path.write_text(edit(GOOD), encoding="utf-8")
    with pytest.raises(TemplateError) as raised:
        parse_template(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    if field is not None:
        assert message.startswith(f"{path}: {field}: ")
    assert hint in message
    # The other templates still load; asking for the bad one gives the same line.
    catalog = load_templates(stillroom_home)
    assert "summary" in catalog.templates and catalog.problems == (message,)
    if field != "name":
        with pytest.raises(TemplateError, match=r"dates\.toml"):
            catalog.get("dates")


def test_the_cli_names_the_bad_file_and_field_in_one_line(stillroom_home: Path,
                                                           tmp_path: Path) -> None:
    (stillroom_home / "templates").mkdir(parents=True)
    bad = stillroom_home / "templates" / "dates.toml"
    bad.write_text(GOOD.replace('output = "json"', 'output = "yaml"'), encoding="utf-8")
    listing = run_cli("docs", "templates", home=stillroom_home)
    assert listing.returncode == 0, listing.stderr
    names = [line.split()[0] for line in listing.stdout.splitlines()]
    assert "privilege-log" in names and "dates" not in names
    assert listing.stderr.strip() == (f"stillroom: warning: {bad}: output: must be \"text\" "
                                      f"or \"json\".")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("hello", encoding="utf-8")
    refused = run_cli("docs", "run", str(folder), "--template", "dates", home=stillroom_home)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        f"stillroom: {bad}: output: must be \"text\" or \"json\".")
    assert "Traceback" not in refused.stderr
