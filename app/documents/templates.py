"""Job templates: what a batch job asks of every document.

A template is a TOML file. Its `prefix` is the fixed part of the prompt (the system message,
the same for every document, so llama.cpp evaluates it once and reuses its KV cache), its
`document` the per-document part (placeholders {name}, {fields} and {text}). A structured
template also has a JSON `schema` (or `labels`, for classification): the engine constrains
the answer to it and the job validates the result with jsonschema.

Shipped templates live in resources/templates/; the user's own in <data dir>/templates/, and
one there with a shipped template's name replaces it. A bad file is one line naming the file
and the field, and never stops the other templates from loading.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "resources" / "templates"
USER_SUBDIR = "templates"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KEYS = {"name", "description", "output", "prefix", "document", "schema", "labels",
         "max_tokens"}
MAX_TOKENS_LIMIT = 8192


class TemplateError(ValueError):
    """One line for the user: the file, the field, and what to do."""


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    description: str
    prefix: str
    document: str
    # "text": the answer as written; "json": an object that follows `schema`.
    output: str
    schema: Mapping[str, Any] | None = None
    labels: tuple[str, ...] = ()
    max_tokens: int = 256
    source: str = ""
    fields: tuple[str, ...] = field(default=())

    def prompt_for(self, name: str, text: str, fields: Mapping[str, str]) -> str:
        """The per-document part of the prompt (the prefix goes first, as the system
        message). Placeholders are replaced once, left to right, so braces in a document's
        text are never read as placeholders."""
        values = {"name": name, "text": text,
                  "fields": "\n".join(f"{key}: {value}" for key, value in fields.items())}
        return re.sub(r"\{(name|text|fields)\}", lambda m: values[m.group(1)], self.document)

    def validate(self, result: object) -> None:
        """Raise ValueError (one line) when a structured result does not follow the schema."""
        if self.schema is None:
            return
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(self.schema).iter_errors(result))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "the answer"
            raise ValueError(f"{where}: {error.message}")


def parse_template(path: Path) -> Template:
    """Read one template file; TemplateError names the file and the field."""
    def fail(key: str, message: str) -> TemplateError:
        return TemplateError(f"{path}: {key}: {message}")

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    except UnicodeDecodeError:
        raise TemplateError(f"{path}: is not UTF-8 text; save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: is not valid TOML ({exc}); fix that line.") from None
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown field; the fields are {', '.join(sorted(_KEYS))}.")

    def text(key: str, *, required: bool = True, default: str = "") -> str:
        value = raw.get(key, None if required else default)
        if value is None:
            raise fail(key, "missing; add it (a string).")
        if not isinstance(value, str) or (required and not value.strip()):
            raise fail(key, "must be a non-empty string.")
        return value

    name = text("name")
    if not _NAME.match(name):
        raise fail("name", "use lower-case letters, digits, '-' and '_' (e.g. contract-dates).")
    output = text("output", required=False, default="text")
    if output not in ("text", "json"):
        raise fail("output", 'must be "text" or "json".')
    document = text("document")
    if "{text}" not in document:
        raise fail("document", "must contain {text}, where the document's text goes.")
    labels = raw.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) and x.strip()
                                               for x in labels):
        raise fail("labels", "must be a list of non-empty strings.")
    if labels and len(set(labels)) != len(labels):
        raise fail("labels", "has a label twice; each label once.")
    schema = raw.get("schema")
    if labels and schema is not None:
        raise fail("schema", "give labels or a schema, not both (labels make the schema).")
    if labels:
        schema = classification_schema(labels)
    if output == "json":
        if not isinstance(schema, dict):
            raise fail("schema", 'output = "json" needs a schema table (or labels).')
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            at = "/".join(str(p) for p in exc.absolute_path)
            raise fail(f"schema{'/' + at if at else ''}", f"not a valid JSON schema: "
                                                           f"{exc.message}.") from None
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
            raise fail("schema", 'must be {type = "object", properties = {...}}: one result '
                                 'row per document.')
    elif schema is not None:
        raise fail("schema", 'a schema needs output = "json".')
    max_tokens = raw.get("max_tokens", 256)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) \
            or not 1 <= max_tokens <= MAX_TOKENS_LIMIT:
        raise fail("max_tokens", f"must be a whole number from 1 to {MAX_TOKENS_LIMIT}.")
    fields = tuple(schema["properties"]) if output == "json" else ("text",)
    return Template(name=name, description=text("description", required=False),
                    prefix=text("prefix"), document=document, output=output,
                    schema=schema if output == "json" else None, labels=tuple(labels),
                    max_tokens=max_tokens, source=str(path), fields=fields)


def classification_schema(labels: list[str]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["label", "reason"],
            "properties": {"label": {"enum": list(labels)},
                           "reason": {"type": "string", "maxLength": 120}}}


@dataclass(frozen=True, slots=True)
class TemplateCatalog:
    templates: Mapping[str, Template]
    problems: tuple[str, ...]  # one line per user file that could not be used

    def get(self, name: str) -> Template:
        template = self.templates.get(name)
        if template is not None:
            return template
        bad = [p for p in self.problems if f"/{name}.toml:" in p or f"\\{name}.toml:" in p]
        if bad:
            raise TemplateError(bad[0])
        raise TemplateError(f"no template named {name!r}; the templates are "
                            f"{', '.join(sorted(self.templates))} (`stillroom docs templates`).")


def load_templates(data_dir: Path | None) -> TemplateCatalog:
    templates: dict[str, Template] = {}
    problems: list[str] = []
    folders = [SHIPPED_DIR] + ([data_dir / USER_SUBDIR] if data_dir is not None else [])
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                template = parse_template(path)
            except TemplateError as exc:
                if folder == SHIPPED_DIR:
                    raise  # a broken shipped template is our bug: let the tests find it
                problems.append(str(exc))
                continue
            templates[template.name] = template
    return TemplateCatalog(templates, tuple(problems))
