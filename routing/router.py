"""The router: a pure function from (message, conversation state, world state) to a
RouteDecision, under the user's policy and providers.

Order (docs/ROUTING.md): the sensitivity gate first, always; then this message's --route,
the conversation's pin, capacity overflow, the policy's rules, its default. Anything that
would leave the machine then passes two gates: offline mode (loopback servers only) and the
budget caps (cloud only). A refusal at a gate answers locally and says so.

Two invariants hold whatever the policy, pin or --route say, and the tests try every path:
sensitive text (or any later message of a conversation that held some) is never routed to a
cloud-tier provider, and every decision names its rule and a reason a person can read.

No I/O in ``decide``, ``failover`` or ``escalate``: policy and providers are read once
(``Router.load``), spend and queue depth arrive in RouteState, and scanning is pure CPU.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from inference.user_files import FileProblem, file_problem
from routing.cloud import CloudError
from routing.confidence import ConfidenceVerdict
from routing.decision import RouteDecision, RouteRequest, RouteState, Spend, Target
from routing.policy import ROUTE_WORDS, Policy, PolicyError, load_policy
from routing.providers import Provider, ProviderError, ProviderStore
from routing.sensitivity import SensitivityReport, scan

POLICY_FILE = "policy.toml"
PROVIDERS_FILE = "providers.json"
KEYS_INDEX_FILE = "keys-index.json"

_FAILURE_WORDS = {
    "timeout": "did not answer in time",
    "rate_limited": "is rate-limiting requests",
    "server_error": "had a server error",
    "auth": "refused the API key",
    "stream_cut": "stopped mid-answer",
    "connection": "could not be reached",
    "bad_request": "rejected the request",
    "offline": "cannot be reached in offline mode",
    "sensitive": "was not sent the sensitive conversation",
}


@dataclass(frozen=True, slots=True)
class _Candidate:
    target: Target
    provider: Provider | None
    model: str | None

    @property
    def label(self) -> str:
        if self.provider is None:
            return "this machine"
        return f"{self.provider.name} ({self.model})" if self.model else self.provider.name


# Builds a decision carrying this message's findings and trace: (candidate, rule, reason).
_Make = Callable[..., RouteDecision]


@dataclass(frozen=True, slots=True)
class _Findings:
    """What the gate found in the message, and in the texts sent along with it."""

    message: SensitivityReport
    context_counts: tuple[tuple[str, int], ...] = ()  # system prompt, attachments, ...

    @property
    def sensitive(self) -> bool:
        return self.message.sensitive or bool(self.context_counts)

    @property
    def counts(self) -> dict[str, int]:
        merged = Counter(self.message.category_counts())
        merged.update(dict(self.context_counts))
        return dict(sorted(merged.items()))

    def describe(self, sticky_before: bool) -> str:
        parts = ", ".join(f"{category} ×{count}" for category, count in self.counts.items())
        if self.message.sensitive:
            return f"this message contains sensitive text ({parts})"
        if self.context_counts:
            return f"text sent with this message (the system prompt or context) is sensitive " \
                   f"({parts})"
        if sticky_before:
            return "this conversation held sensitive text earlier, so it stays on trusted " \
                   "machines"
        return "no sensitive text found"


def describe_failure(failed: RouteDecision, error: CloudError | str) -> str:
    """What went wrong, in words: "fakecloud had a server error after 3 attempts". The true
    reason: "no API key for openai" when none is stored, "cannot reach api.openai.com (DNS)"
    when the name does not resolve; "refused the API key" only for a 401/403."""
    kind = error.kind if isinstance(error, CloudError) else str(error)
    attempts = error.attempts if isinstance(error, CloudError) else 1
    name = failed.provider or failed.target
    host = error.host if isinstance(error, CloudError) else None
    if kind == "no_key":
        words = f"no API key for {name}"
    elif kind == "dns":
        words = f"cannot reach {host or name} (DNS)"
    else:
        words = f"{name} {_FAILURE_WORDS.get(kind, 'failed')}"
    return f"{words} after {attempts} attempts" if attempts > 1 else words


# PolicyError and ProviderError are ValueErrors worded for the user; the others are bugs a
# strange file could still reach, and must lock the routes just the same.
_UNUSABLE = (ValueError, TypeError, KeyError, AttributeError, RecursionError)


def _closed_problem(path: Path, error: BaseException) -> FileProblem:
    words = str(error) if isinstance(error, PolicyError | ProviderError) else \
        f"{path}: cannot be used ({type(error).__name__})"
    if str(path) not in words:
        words = f"{path}: {words}"
    return file_problem(path, f"{words.rstrip('.')}. Only this machine answers until it is "
                              f"fixed.")


def _dollars(amount: Decimal | float | int) -> Decimal:
    return amount if isinstance(amount, Decimal) else Decimal(str(amount))


class Router:
    def __init__(self, policy: Policy | None = None, providers: Sequence[Provider] = (), *,
                 closed_reason: str | None = None) -> None:
        self.policy = policy or Policy()
        self.providers = tuple(providers)
        self._by_name = {p.name: p for p in self.providers}
        # Set when a policy or providers file could not be used: every message is answered
        # on this machine, whatever it asks for, until the file is fixed.
        self.closed_reason = closed_reason

    @classmethod
    def load(cls, data_dir: Path) -> Router:
        """Read ``policy.toml`` (or the shipped default) and ``providers.json`` from the data
        directory. Raises PolicyError / ProviderError, both worded for the user."""
        return cls(load_policy(data_dir / POLICY_FILE),
                   ProviderStore(data_dir / PROVIDERS_FILE).load())

    @classmethod
    def load_fail_closed(cls, data_dir: Path) -> tuple[Router, list[FileProblem]]:
        """Like ``load``, but a file that cannot be used never stops the app: the router then
        answers everything on this machine (no cloud or on-prem route at all, which is what
        the policy file promises: "answered locally meanwhile") and the problems say which
        file and setting is wrong. Each bad file is copied aside before anything rewrites it."""
        problems: list[FileProblem] = []
        policy_path, providers_path = data_dir / POLICY_FILE, data_dir / PROVIDERS_FILE
        policy: Policy | None = None
        providers: list[Provider] = []
        try:
            policy = load_policy(policy_path)
        except _UNUSABLE as exc:
            problems.append(_closed_problem(policy_path, exc))
        try:
            providers = ProviderStore(providers_path).load()
        except _UNUSABLE as exc:
            problems.append(_closed_problem(providers_path, exc))
        if not problems:
            return cls(policy, providers), []
        names = " and ".join(problem.path.name for problem in problems)
        reason = f"{names} cannot be used, so only this machine answers until it is fixed"
        return cls(Policy(source=f"local only ({reason})"), (), closed_reason=reason), problems

    def provider(self, name: str | None) -> Provider | None:
        return self._by_name.get(name) if name else None

    # ------------------------------------------------------------------ resolution

    def _first_of_tier(self, tier: str) -> Provider | None:
        return next((p for p in self.providers if p.tier == tier), None)

    def _resolve(self, route: str, *, local_model: str | None, provider_hint: str | None = None,
                 model_hint: str | None = None) -> _Candidate | str:
        """A route word or provider name as a concrete target, or why it cannot be one."""
        route = route.strip().lower()
        if route == "local":
            return _Candidate("local", None, local_model)
        defaults = self.policy.defaults
        if route in ("onprem", "cloud"):
            name = provider_hint or (defaults.cloud_provider if route == "cloud"
                                     else defaults.onprem_provider)
            provider = self.provider(name) if name else self._first_of_tier(route)
            if provider is None:
                if name:
                    return f"provider '{name}' is not configured (`stillroom providers list`)"
                word = "cloud" if route == "cloud" else "on-premises"
                return f"no {word} provider is configured"
            if provider.tier != route:
                return f"provider '{provider.name}' is {provider.tier}, not {route}"
        else:
            provider = self.provider(route)
            if provider is None:
                return f"'{route}' is not a configured provider (`stillroom providers list`)"
        default_model = (defaults.cloud_model if provider.tier == "cloud"
                         else defaults.onprem_model)
        default_name = (defaults.cloud_provider if provider.tier == "cloud"
                        else defaults.onprem_provider)
        model = model_hint or (default_model if default_name == provider.name else None) \
            or provider.default_model
        return _Candidate(provider.tier, provider, model)

    def _gate(self, candidate: _Candidate, state: RouteState) -> tuple[str, str] | None:
        """(rule, why) when offline mode or a budget cap keeps the candidate from running."""
        provider = candidate.provider
        if provider is None:
            return None
        if state.offline and provider.tier == "cloud":
            # Even on loopback: a local proxy (LiteLLM, a tunnel) forwards to the internet.
            return "offline", f"offline mode is on and {provider.name} is a cloud provider"
        if state.offline and not provider.is_loopback:
            return "offline", (f"offline mode is on and {provider.name} ({provider.host}) is "
                               f"not on this machine")
        if candidate.target == "cloud":
            estimate = state.estimate_usd(provider.name, candidate.model) \
                if state.estimate_usd is not None else None
            blocked = self._budget_block(provider.name, state.spend, estimate)
            if blocked:
                return "budget", blocked
        return None

    def _budget_block(self, name: str, spend: Spend, estimate: Decimal | None = None
                      ) -> str | None:
        budget = self.policy.budget
        own = budget.providers.get(name)
        checks = [
            (budget.total.daily_usd, spend.today_usd, "today's cloud budget"),
            (budget.total.monthly_usd, spend.month_usd, "this month's cloud budget"),
        ]
        if own is not None:
            checks += [
                (own.daily_usd, spend.today_by_provider.get(name, 0), f"today's budget for {name}"),
                (own.monthly_usd, spend.month_by_provider.get(name, 0),
                 f"this month's budget for {name}"),
            ]
        for cap, spent, label in checks:
            if cap is None:
                continue
            if _dollars(spent) >= cap:
                return f"{label} is used up (${_dollars(spent):.2f} of ${cap:.2f})"
            if estimate is not None and _dollars(spent) + estimate > cap:
                return (f"this message could cost up to ${estimate:.4f}, more than is left of "
                        f"{label} (${_dollars(spent):.2f} of ${cap:.2f} spent)")
        return None

    # ------------------------------------------------------------------ decisions

    def _scan(self, request: RouteRequest) -> _Findings:
        terms = list(self.policy.sensitivity.custom_terms)
        threshold = self.policy.sensitivity.context_threshold
        context: Counter[str] = Counter()
        for text in request.context:
            context.update(scan(text, custom_terms=terms,
                                context_threshold=threshold).category_counts())
        return _Findings(scan(request.text, custom_terms=terms, context_threshold=threshold),
                         tuple(sorted(context.items())))

    def decide(self, request: RouteRequest, state: RouteState | None = None, *,
               local_model: str | None = None) -> RouteDecision:
        """Where this message is answered. Runs the sensitivity gate before anything else."""
        state = state or RouteState()
        found = self._scan(request)
        sensitive = found.sensitive or state.conversation_sensitive
        findings = {
            "sensitive": sensitive,
            "categories": tuple(found.counts),
            "category_counts": tuple(found.counts.items()),
            "spans": tuple((s.start, s.end, s.category) for s in found.message.spans),
            "sticky": sensitive,
        }
        trace = [f"sensitivity: {found.describe(state.conversation_sensitive)}"]
        if found.message.context is not None:
            # Which situation cues fired, the score and the threshold. In the trace (shown by
            # `route explain` and the "why?" view), not in the reason the audit log keeps:
            # cue names are words a prompt may also hold.
            trace.append(f"sensitivity {found.message.context.explain()}")

        asked, asked_by = None, None
        if request.route and request.route.strip().lower() != "auto":
            asked, asked_by = request.route.strip().lower(), "forced"
            trace.append(f"--route {asked}")
        elif request.pinned_target:
            asked, asked_by = request.pinned_target.strip().lower(), "pin"
            trace.append(f"pinned to {asked}")

        def make(candidate: _Candidate, rule: str, reason: str, **extra: object) -> RouteDecision:
            return RouteDecision(
                target=candidate.target, rule=rule, reason=reason,
                provider=candidate.provider.name if candidate.provider else None,
                model=candidate.model, trace=(*trace, f"-> {rule}: {candidate.label}"),
                **findings, **extra)  # type: ignore[arg-type]

        local = _Candidate("local", None, local_model)
        if sensitive:
            return self._decide_sensitive(found, state, asked, asked_by, local, make)
        if self.closed_reason:
            return make(local, "fail-closed", f"{self.closed_reason}; answered on this machine")

        if asked:
            candidate = self._resolve(asked, local_model=local_model)
            who = "you asked for" if asked_by == "forced" else "the conversation is pinned to"
            if isinstance(candidate, str):
                return make(local, asked_by or "forced",
                            f"{who} '{asked}', but {candidate}; answered on this machine")
            return self._gated(candidate, state, asked_by or "forced",
                               f"{who} {candidate.label}", make, local)

        capacity = self.policy.capacity
        if capacity.enabled and state.local_queue_depth >= capacity.max_local_queue:
            candidate = self._resolve(capacity.target, local_model=local_model)
            waiting = (f"{state.local_queue_depth} messages are waiting for the local model "
                       f"(limit {capacity.max_local_queue})")
            if isinstance(candidate, str):
                trace.append(f"capacity: {waiting}, but {candidate}")
            else:
                return self._gated(candidate, state, "capacity",
                                   f"{waiting}: overflow to {candidate.label}", make, local)

        for rule in self.policy.rules:
            if not rule.when.matches(request.text, request.task, local_model):
                continue
            candidate = self._resolve(rule.target, local_model=local_model,
                                      provider_hint=rule.provider, model_hint=rule.model)
            if isinstance(candidate, str):
                return make(local, f"rule:{rule.name}",
                            f"rule '{rule.name}' matched, but {candidate}; answered on this "
                            f"machine")
            return self._gated(candidate, state, f"rule:{rule.name}",
                               f"rule '{rule.name}' matched: {candidate.label}", make, local)

        default = self.policy.defaults.target
        if default == "local":
            if not self.providers:
                return make(local, "local-only", "no cloud or on-premises provider is configured")
            return make(local, "default", "the policy's default is this machine")
        candidate = self._resolve(default, local_model=local_model)
        if isinstance(candidate, str):
            return make(local, "default", f"the policy's default is '{default}', but "
                                          f"{candidate}; answered on this machine")
        return self._gated(candidate, state, "default",
                           f"the policy's default is {candidate.label}", make, local)

    def _gated(self, candidate: _Candidate, state: RouteState, rule: str, reason: str,
               make: _Make, local: _Candidate) -> RouteDecision:
        blocked = self._gate(candidate, state)
        if blocked is None:
            return make(candidate, rule, reason)
        gate_rule, why = blocked
        return make(local, gate_rule,
                    f"{reason}, but {why}; answered on this machine")

    def _decide_sensitive(self, found: _Findings, state: RouteState, asked: str | None,
                          asked_by: str | None, local: _Candidate,
                          make: _Make) -> RouteDecision:
        policy = self.policy.sensitivity
        rule = "sensitivity" if found.sensitive else "sticky"
        what = found.describe(state.conversation_sensitive)
        trusted_tiers = {"local", "onprem"} if policy.target == "onprem" else {"local"}
        note = ""
        if asked:
            candidate = self._resolve(asked, local_model=local.model)
            trusted = isinstance(candidate, _Candidate) and candidate.target in trusted_tiers
            blocked = self._gate(candidate, state) if isinstance(candidate, _Candidate) else None
            if trusted and blocked is None:
                return make(candidate, rule,
                            f"{what}; kept on {candidate.label} as "
                            f"{'you asked' if asked_by == 'forced' else 'pinned'}")
            wants_cloud = asked == "cloud" or (isinstance(candidate, _Candidate)
                                               and candidate.target == "cloud")
            if wants_cloud and policy.forced_cloud == "refuse":
                return make(local, rule,
                            f"refused: {what}, and sensitive text is never sent to the cloud "
                            f"(asked for '{asked}'). Nothing was sent and nothing was answered.",
                            refused=True)
            if wants_cloud:
                note = (f"; '{asked}' was asked for, but sensitive text is never sent to the "
                        f"cloud, so nothing was sent")
            elif trusted and blocked is not None:
                note = f"; '{asked}' was asked for, but {blocked[1]}"
            else:
                note = f"; '{asked}' is not a trusted target for sensitive text"
        if policy.target == "onprem":
            candidate = self._resolve("onprem", local_model=local.model)
            if isinstance(candidate, _Candidate):
                blocked = self._gate(candidate, state)
                if blocked is None:
                    return make(candidate, rule,
                                f"{what}: answered on {candidate.label}{note}")
                note += f"; {blocked[1]}"
            else:
                note += f"; {candidate}"
        return make(local, rule, f"{what}: answered on this machine{note}")

    def failover(self, failed: RouteDecision, error: CloudError | str, *,
                 state: RouteState | None = None, local_model: str | None = None) -> RouteDecision:
        """Where to answer after ``failed``'s provider gave up (its retries are spent).

        Never a cloud target: failover goes to [failover].target (local, onprem or none).
        """
        state = state or RouteState()
        kind = error.kind if isinstance(error, CloudError) else str(error)
        base = describe_failure(failed, error)
        carried = {"sensitive": failed.sensitive, "categories": failed.categories,
                   "category_counts": failed.category_counts, "spans": failed.spans,
                   "sticky": failed.sticky}
        trace = (*failed.trace, f"failover: {kind}")
        target = self.policy.failover.target
        if target == "none":
            return RouteDecision("local", "failover", f"{base}; failover is off in the policy, "
                                 f"so nothing else answered", model=local_model, refused=True,
                                 trace=trace, **carried)  # type: ignore[arg-type]
        if target == "onprem" and failed.target != "onprem":
            candidate = self._resolve("onprem", local_model=local_model)
            if isinstance(candidate, _Candidate) and self._gate(candidate, state) is None:
                return RouteDecision("onprem", "failover", f"{base}; answered by "
                                     f"{candidate.label} instead",
                                     provider=candidate.provider.name,  # type: ignore[union-attr]
                                     model=candidate.model, trace=trace,
                                     **carried)  # type: ignore[arg-type]
        return RouteDecision("local", "failover", f"{base}; answered on this machine instead",
                             model=local_model, trace=trace, **carried)  # type: ignore[arg-type]

    def escalate(self, request: RouteRequest, verdict: ConfidenceVerdict, *,
                 answered: RouteDecision, state: RouteState | None = None) -> RouteDecision:
        """After a local answer: re-ask elsewhere (target != "local") or keep it (local),
        with the reason either way. The sensitivity gate runs again first."""
        state = state or RouteState()
        config = self.policy.escalation

        def keep(why: str) -> RouteDecision:
            return replace(answered, rule="confidence", reason=why,
                           trace=(*answered.trace, f"escalation: kept ({why})"))

        if not config.enabled:
            return keep("confidence escalation is off in the policy")
        if answered.target != "local":
            return keep("only answers from this machine are escalated")
        if not verdict.escalate:
            return keep(verdict.reason)
        if self._scan(request).sensitive or state.conversation_sensitive or answered.sensitive:
            return keep(f"{verdict.reason}, but sensitive text stays on this machine")
        candidate = self._resolve(config.target, local_model=answered.model,
                                  model_hint=config.model)
        if isinstance(candidate, str):
            return keep(f"{verdict.reason}, but {candidate}")
        if candidate.target == "local":
            return keep(f"{verdict.reason}, but the escalation target is this machine")
        blocked = self._gate(candidate, state)
        if blocked is not None:
            return keep(f"{verdict.reason}, but {blocked[1]}")
        return RouteDecision(candidate.target, "confidence",
                             f"{verdict.reason}: re-asking {candidate.label}",
                             provider=candidate.provider.name,  # type: ignore[union-attr]
                             model=candidate.model,
                             trace=(*answered.trace, f"escalation: to {candidate.label}"))

    # ------------------------------------------------------------------ checks

    def problems(self) -> list[str]:
        """Policy settings that name providers that do not exist (shown by `route policy`)."""
        found = []
        defaults = self.policy.defaults
        named = [("[defaults] cloud_provider", defaults.cloud_provider),
                 ("[defaults] onprem_provider", defaults.onprem_provider),
                 ("[defaults] target", defaults.target),
                 ("[capacity] target", self.policy.capacity.target),
                 ("[escalation] target", self.policy.escalation.target)]
        named += [(f"rule '{r.name}' target", r.target) for r in self.policy.rules]
        named += [(f"rule '{r.name}' provider", r.provider) for r in self.policy.rules]
        named += [(f"[budget.providers.{n}]", n) for n in self.policy.budget.providers]
        for where, name in named:
            if name and name not in ROUTE_WORDS and name not in self._by_name:
                found.append(f"{where} names '{name}', which is not a configured provider")
        return found
