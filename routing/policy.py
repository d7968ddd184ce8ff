"""The routing policy: ordered, human-edited rules, read from a TOML file.

Why TOML: the file is written by people, and comments are how it explains itself (the
shipped default, resources/policy/default.toml, documents every setting in place). The
standard library reads it (``tomllib``), with exact decimals for money. JSON would need no
parser either, but has no comments, and a policy that cannot explain itself in place gets
edited wrongly. Nothing here writes a user's file (only the default is copied, once), so
there is no TOML writer to depend on.

Every value is checked on load; an unknown key is an error, not a silent no-op, because a
misspelt ``target`` in a privacy setting must not quietly do nothing. docs/ROUTING.md
describes the format and the order in which the router applies it.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from routing.confidence import EscalationConfig
from routing.providers import ProviderError, validate_name
from routing.sensitivity.context import DEFAULT_THRESHOLD as DEFAULT_CONTEXT_THRESHOLD

ROUTE_WORDS = ("local", "onprem", "cloud")
POLICY_VERSION = 1

SensitiveTarget = Literal["local", "onprem"]
ForcedCloud = Literal["answer-locally", "refuse"]
FailoverTarget = Literal["local", "onprem", "none"]


class PolicyError(ValueError):
    """A policy file that cannot be used; says which file, which setting and why."""


@dataclass(frozen=True, slots=True)
class Defaults:
    target: str = "local"
    cloud_provider: str | None = None
    cloud_model: str | None = None
    onprem_provider: str | None = None
    onprem_model: str | None = None


@dataclass(frozen=True, slots=True)
class SensitivityPolicy:
    target: SensitiveTarget = "local"
    forced_cloud: ForcedCloud = "answer-locally"
    custom_terms: tuple[str, ...] = ()
    # The score at which the gate's contextual layer (who, what, how it was shared) makes a
    # text sensitive; lower keeps more text local. See docs/SENSITIVITY.md.
    context_threshold: float = DEFAULT_CONTEXT_THRESHOLD


@dataclass(frozen=True, slots=True)
class FailoverPolicy:
    target: FailoverTarget = "local"
    max_retries: int = 2
    timeout_s: float = 60.0


@dataclass(frozen=True, slots=True)
class CapacityPolicy:
    enabled: bool = False
    max_local_queue: int = 3
    target: str = "onprem"


@dataclass(frozen=True, slots=True)
class BudgetCap:
    daily_usd: Decimal | None = None
    monthly_usd: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    total: BudgetCap = BudgetCap()
    providers: Mapping[str, BudgetCap] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleCondition:
    tasks: tuple[str, ...] = ()
    min_chars: int | None = None
    max_chars: int | None = None
    contains_any: tuple[str, ...] = ()
    local_models: tuple[str, ...] = ()

    def matches(self, text: str, task: str | None, local_model: str | None) -> bool:
        if self.tasks and (task is None or task.lower() not in self.tasks):
            return False
        if self.min_chars is not None and len(text) < self.min_chars:
            return False
        if self.max_chars is not None and len(text) > self.max_chars:
            return False
        if self.contains_any:
            folded = text.casefold()
            if not any(word in folded for word in self.contains_any):
                return False
        if not self.local_models:
            return True
        return local_model is not None and any(
            fnmatch.fnmatchcase(local_model, pattern) for pattern in self.local_models)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: RuleCondition
    target: str
    provider: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    defaults: Defaults = Defaults()
    sensitivity: SensitivityPolicy = SensitivityPolicy()
    failover: FailoverPolicy = FailoverPolicy()
    capacity: CapacityPolicy = CapacityPolicy()
    budget: BudgetPolicy = BudgetPolicy()
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    rules: tuple[Rule, ...] = ()
    source: str = "built-in defaults"


# ----------------------------------------------------------------------------- parsing


class _Section:
    """Reads one table, remembering where it is, and refuses keys nobody asked for."""

    def __init__(self, raw: Any, where: str, allowed: Sequence[str]) -> None:
        if not isinstance(raw, dict):
            raise PolicyError(f"{where} must be a table")
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise PolicyError(f"{where}: unknown setting(s) {', '.join(unknown)} "
                              f"(known: {', '.join(allowed)})")
        self.raw, self.where = raw, where

    def fail(self, key: str, message: str) -> PolicyError:
        return PolicyError(f"{self.where} {key}: {message}")

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be non-empty text")
        return value.strip()

    def choice(self, key: str, options: Sequence[str], default: str) -> str:
        value = self.raw.get(key, default)
        if value not in options:
            raise self.fail(key, f"must be one of {', '.join(repr(o) for o in options)}, "
                                 f"not {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def integer(self, key: str, default: int | None, minimum: int = 0) -> int | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be a whole number, at least {minimum}")
        return value

    def number(self, key: str, default: float | None) -> float | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise self.fail(key, "must be a number")
        return float(value)

    def dollars(self, key: str) -> Decimal | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0:
            raise self.fail(key, "must be an amount in US dollars, 0 or more (e.g. 5.00)")
        return Decimal(value)

    def words(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of text, e.g. [\"a\", \"b\"]")
        return tuple(v.strip() for v in value if v.strip())


def _route(section: _Section, key: str, default: str | None) -> str | None:
    """A route: local, onprem, cloud or a provider name (checked against providers later)."""
    value = section.text(key, default)
    if value is None or value in ROUTE_WORDS:
        return value
    try:
        return validate_name(value)
    except ProviderError as exc:
        raise section.fail(key, f"must be local, onprem, cloud or a provider name ({exc})"
                           ) from None


def _provider_name(section: _Section, key: str) -> str | None:
    value = section.text(key)
    if value is None:
        return None
    try:
        return validate_name(value)
    except ProviderError as exc:
        raise section.fail(key, str(exc)) from None


def _escalation(raw: Any, where: str) -> EscalationConfig:
    names = [f.name for f in fields(EscalationConfig)]
    section = _Section(raw, where, names)
    try:
        return EscalationConfig(
            enabled=section.boolean("enabled", False),
            target=_route(section, "target", "cloud") or "cloud",
            model=section.text("model"),
            quantile=section.number("quantile", 0.10),  # type: ignore[arg-type]
            history_percentile=section.number("history_percentile", 10.0),  # type: ignore[arg-type]
            min_history=section.integer("min_history", 20, minimum=1),  # type: ignore[arg-type]
            fallback_threshold=section.number("fallback_threshold", None),
            min_tokens=section.integer("min_tokens", 8, minimum=1),  # type: ignore[arg-type]
        )
    except ValueError as exc:
        if isinstance(exc, PolicyError):
            raise
        raise PolicyError(f"{where}: {exc}") from None


def _rule(raw: Any, where: str) -> Rule:
    section = _Section(raw, where, ("name", "task", "min_chars", "max_chars", "contains_any",
                                    "local_model", "target", "provider", "model"))
    name = section.text("name")
    if name is None:
        raise section.fail("name", "every rule needs a name (it is shown as the reason)")
    target = _route(section, "target", None)
    if target is None:
        raise section.fail("target", "every rule needs a target")
    condition = RuleCondition(
        tasks=tuple(t.lower() for t in section.words("task")),
        min_chars=section.integer("min_chars", None),
        max_chars=section.integer("max_chars", None),
        contains_any=tuple(w.casefold() for w in section.words("contains_any")),
        local_models=section.words("local_model"),
    )
    if condition == RuleCondition():
        raise PolicyError(f"{where}: rule '{name}' has no condition, so it would catch every "
                          f"message; use [defaults] target for that")
    return Rule(name=name, when=condition, target=target,
                provider=_provider_name(section, "provider"), model=section.text("model"))


def parse_policy(document: Mapping[str, Any], where: str) -> Policy:
    top = _Section(document, where, ("version", "defaults", "sensitivity", "failover",
                                     "capacity", "budget", "escalation", "rules"))
    version = document.get("version", POLICY_VERSION)
    if version != POLICY_VERSION:
        raise PolicyError(f"{where}: version {version!r} is not one this Stillroom reads "
                          f"({POLICY_VERSION})")

    d = _Section(document.get("defaults", {}), f"{where} [defaults]",
                 ("target", "cloud_provider", "cloud_model", "onprem_provider", "onprem_model"))
    defaults = Defaults(target=_route(d, "target", "local") or "local",
                        cloud_provider=_provider_name(d, "cloud_provider"),
                        cloud_model=d.text("cloud_model"),
                        onprem_provider=_provider_name(d, "onprem_provider"),
                        onprem_model=d.text("onprem_model"))

    s = _Section(document.get("sensitivity", {}), f"{where} [sensitivity]",
                 ("target", "forced_cloud", "custom_terms", "context_threshold"))
    threshold = s.number("context_threshold", DEFAULT_CONTEXT_THRESHOLD)
    # Above 3 no text could ever reach it (the families add up to less): that would switch the
    # contextual layer off while looking like a setting, so it is refused, as 0 or less is.
    if threshold is None or not 0 < threshold <= 3:
        raise s.fail("context_threshold", "must be a number more than 0 and at most 3 "
                     f"(default {DEFAULT_CONTEXT_THRESHOLD})")
    sensitivity = SensitivityPolicy(
        target=s.choice("target", ("local", "onprem"), "local"),  # type: ignore[arg-type]
        forced_cloud=s.choice("forced_cloud", ("answer-locally", "refuse"),  # type: ignore[arg-type]
                              "answer-locally"),
        custom_terms=s.words("custom_terms"),
        context_threshold=float(threshold))

    f = _Section(document.get("failover", {}), f"{where} [failover]",
                 ("target", "max_retries", "timeout_s"))
    timeout = f.number("timeout_s", 60.0)
    if timeout is None or timeout <= 0:
        raise f.fail("timeout_s", "must be more than 0 seconds")
    failover = FailoverPolicy(
        target=f.choice("target", ("local", "onprem", "none"), "local"),  # type: ignore[arg-type]
        max_retries=f.integer("max_retries", 2),  # type: ignore[arg-type]
        timeout_s=timeout)

    c = _Section(document.get("capacity", {}), f"{where} [capacity]",
                 ("enabled", "max_local_queue", "target"))
    capacity = CapacityPolicy(enabled=c.boolean("enabled", False),
                              max_local_queue=c.integer("max_local_queue", 3,  # type: ignore[arg-type]
                                                        minimum=1),
                              target=_route(c, "target", "onprem") or "onprem")
    if capacity.target == "local":
        raise c.fail("target", "overflow must go somewhere other than local")

    b = _Section(document.get("budget", {}), f"{where} [budget]",
                 ("daily_usd", "monthly_usd", "providers"))
    per_provider: dict[str, BudgetCap] = {}
    raw_providers = b.raw.get("providers", {})
    if not isinstance(raw_providers, dict):
        raise b.fail("providers", "must be tables like [budget.providers.openai]")
    for name, raw_cap in raw_providers.items():
        cap = _Section(raw_cap, f"{where} [budget.providers.{name}]",
                       ("daily_usd", "monthly_usd"))
        try:
            per_provider[validate_name(name)] = BudgetCap(cap.dollars("daily_usd"),
                                                          cap.dollars("monthly_usd"))
        except ProviderError as exc:
            raise PolicyError(f"{where} [budget.providers.{name}]: {exc}") from None
    budget = BudgetPolicy(total=BudgetCap(b.dollars("daily_usd"), b.dollars("monthly_usd")),
                          providers=per_provider)

    escalation = _escalation(document.get("escalation", {}), f"{where} [escalation]")

    raw_rules = document.get("rules", [])
    if not isinstance(raw_rules, list):
        raise top.fail("rules", "must be written as [[rules]] tables")
    rules = tuple(_rule(raw, f"{where} [[rules]] #{i + 1}") for i, raw in enumerate(raw_rules))
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PolicyError(f"{where}: rule names must differ; repeated: {', '.join(duplicates)}")

    return Policy(defaults=defaults, sensitivity=sensitivity, failover=failover,
                  capacity=capacity, budget=budget, escalation=escalation, rules=rules,
                  source=where)


def parse_policy_text(text: str, where: str) -> Policy:
    try:
        # Decimal keeps 0.10 dollars exactly 0.10.
        document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{where}: not valid TOML ({exc})") from None
    return parse_policy(document, where)


def default_policy_text() -> str:
    return resources.files("resources").joinpath("policy", "default.toml").read_text(
        encoding="utf-8")


def load_default_policy() -> Policy:
    return parse_policy_text(default_policy_text(), "default policy")


def load_policy(path: Path) -> Policy:
    """The user's policy file, or the shipped default when there is none yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return load_default_policy()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    return parse_policy_text(text, str(path))


def write_default_policy(path: Path) -> bool:
    """Create ``path`` from the commented default if it does not exist; True if created."""
    if path.exists():
        return False
    from inference.files import write_text_atomic

    write_text_atomic(path, default_policy_text())
    return True
