"""argparse glue for ``stillroom providers | keys | route``.

The app's CLI calls ``add_routing_commands(subparsers, data_dir_provider)``; each command
stores its handler in ``args.func``, which returns the exit code: 0 on success, 2 with one
line on stderr for anything the user can fix (bad name or URL, no keyring, provider error).
``data_dir_provider`` is called only when a command runs, so ``--help`` touches nothing.

    stillroom providers add NAME [--base-url URL] [--model ID]... [--tier cloud|onprem]
    stillroom providers list|presets|rm NAME|test NAME
    stillroom keys set PROVIDER | list | rm PROVIDER
    stillroom route explain [--json] [--route R] [TEXT|-]
    stillroom route policy
    stillroom route evaluate SET.jsonl [--verbose] [--json]
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from routing.cloud import CloudError, stream_chat
from routing.decision import RouteRequest, RouteState
from routing.keys import KeyringUnavailableError, KeyStore, environment_variable, mask
from routing.policy import PolicyError, load_policy, write_default_policy
from routing.providers import PRESETS, ProviderError, ProviderStore, make_provider, validate_name
from routing.router import KEYS_INDEX_FILE, POLICY_FILE, PROVIDERS_FILE, Router
from routing.sensitivity.context import DEFAULT_THRESHOLD
from routing.sensitivity.evaluation import SetError, evaluate, read_cases, render

EXIT_OK = 0
EXIT_BAD_INPUT = 2
TEST_PROMPT = "Reply with the single word: ready"

DataDirProvider = Callable[[], Path]
OfflineProvider = Callable[[], bool]
# Makes the judge `route evaluate --judge` asks: a model id (None: the settings' choice) in,
# text -> "kept local?" out.
JudgeFactory = Callable[[str | None], Callable[[str], bool]]


class _UserError(Exception):
    """Anything else the user can fix, with its message."""


def _guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except (ProviderError, PolicyError, KeyringUnavailableError, CloudError, _UserError,
            SetError, ValueError) as exc:
        print(f"stillroom: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, ensure_ascii=False))


def _keys(data_dir: Path) -> KeyStore:
    return KeyStore(data_dir / KEYS_INDEX_FILE)


# ----------------------------------------------------------------------------- providers


def run_providers_add(args: argparse.Namespace, *, data_dir: DataDirProvider) -> int:
    key_name: object = args.key
    if args.no_key:
        key_name = None
    options: dict[str, Any] = {"base_url": args.base_url, "tier": args.tier,
                               "models": args.model or (), "preset": args.preset}
    if key_name is not None or args.no_key:
        options["key_name"] = key_name
    provider = make_provider(args.name, **options)
    directory = data_dir()
    ProviderStore(directory / PROVIDERS_FILE).add(provider, replace_existing=args.replace)
    models = ", ".join(provider.models) or "none yet (add with --model ID)"
    print(f"Added {provider.name}: {provider.tier}, {provider.base_url}, models: {models}.")
    if provider.tier == "onprem":
        print("  On-prem: the policy may send it sensitive text ([sensitivity] target = "
              "\"onprem\").")
    if provider.key_name and not _keys(directory).has_key(provider.key_name):
        print(f"  Store its key: stillroom keys set {provider.key_name}")
    return EXIT_OK


def run_providers_list(args: argparse.Namespace, *, data_dir: DataDirProvider) -> int:
    directory = data_dir()
    providers = ProviderStore(directory / PROVIDERS_FILE).load()
    keys = _keys(directory)

    def key_state(key_name: str | None) -> str:
        if key_name is None:
            return "not needed"
        return "set" if keys.has_key(key_name) else "missing"

    if args.json:
        _print_json([{**p.to_json(), "key": key_state(p.key_name)} for p in providers])
        return EXIT_OK
    if not providers:
        print("No providers yet: everything is answered on this machine. Add one with "
              "`stillroom providers add NAME` (`stillroom providers presets` lists presets).")
        return EXIT_OK
    rows = [("NAME", "TIER", "BASE URL", "KEY", "MODELS")]
    rows += [(p.name, p.tier, p.base_url, key_state(p.key_name), ", ".join(p.models) or "-")
             for p in providers]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
              + "  " + row[4])
    return EXIT_OK


def run_providers_presets(args: argparse.Namespace) -> int:
    if args.json:
        _print_json({name: {"base_url": p.base_url, "tier": p.tier, "models": list(p.models),
                            "needs_key": p.needs_key, "note": p.note}
                     for name, p in PRESETS.items()})
        return EXIT_OK
    width = max(len(name) for name in PRESETS)
    for name, preset in PRESETS.items():
        print(f"{name.ljust(width)}  {preset.tier:<6}  {preset.base_url}  ({preset.note})")
    return EXIT_OK


def run_providers_rm(args: argparse.Namespace, *, data_dir: DataDirProvider) -> int:
    removed = ProviderStore(data_dir() / PROVIDERS_FILE).remove(args.name)
    print(f"Removed {removed.name}.")
    if removed.key_name:
        print(f"  Its key stays in the keyring until `stillroom keys rm {removed.key_name}`.")
    return EXIT_OK


def run_providers_test(args: argparse.Namespace, *, data_dir: DataDirProvider,
                       offline_mode: OfflineProvider) -> int:
    """One tiny real request through the same client the chat path uses."""
    directory = data_dir()
    provider = ProviderStore(directory / PROVIDERS_FILE).get(args.name)
    model = args.model or provider.default_model
    if not model:
        raise _UserError(f"{provider.name} has no model: pass --model ID (or add one with "
                         f"`stillroom providers add {provider.name} --model ID --replace`).")
    if offline_mode() and (provider.tier == "cloud" or not provider.is_loopback):
        # The router's rule: offline means this machine and on-prem servers on loopback.
        raise _UserError(f"Offline mode is on: {provider.name} ({provider.tier}, "
                         f"{provider.host}) was not contacted; only on-prem servers on this "
                         f"machine are.")
    api_key = _keys(directory).get(provider.key_name) if provider.key_name else None
    started = time.monotonic()
    reply, last = [], None
    for chunk in stream_chat(provider, model, [{"role": "user", "content": TEST_PROMPT}],
                             api_key=api_key, timeout=args.timeout, max_retries=0,
                             max_tokens=16, temperature=0.0):
        reply.append(chunk.text)
        last = chunk
    elapsed = time.monotonic() - started
    text = "".join(reply).strip()
    usage = last.usage if last else None
    if args.json:
        _print_json({"provider": provider.name, "model": model, "ok": True, "reply": text,
                     "elapsed_s": round(elapsed, 3),
                     "prompt_tokens": usage.prompt_tokens if usage else None,
                     "completion_tokens": usage.completion_tokens if usage else None})
        return EXIT_OK
    counted = (f"; {usage.prompt_tokens} tokens in, {usage.completion_tokens} out"
               if usage else "; no token counts reported")
    print(f"{provider.name} works: {model} answered {text[:80]!r} in {elapsed:.2f} s{counted}.")
    return EXIT_OK


# ----------------------------------------------------------------------------- keys


def _read_secret(provider: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"API key for {provider} (input hidden): ")
    return sys.stdin.read() if sys.stdin is not None else ""


def run_keys_set(args: argparse.Namespace, *, data_dir: DataDirProvider) -> int:
    provider = validate_name(args.provider)
    store = _keys(data_dir())
    secret = _read_secret(provider)
    store.set(provider, secret)
    print(f"Stored the key for {provider} in the OS keyring ({mask(secret.strip())}).")
    variable = environment_variable(provider)
    if os.environ.get(variable):
        print(f"  Note: ${variable} is set in the environment and is used instead.")
    return EXIT_OK


def run_keys_list(args: argparse.Namespace, *, data_dir: DataDirProvider) -> int:
    shown = _keys(data_dir()).list_masked()
    if args.json:
        _print_json(shown)
        return EXIT_OK
    if not shown:
        print("No keys stored. Add one with `stillroom keys set PROVIDER` (it reads the key "
              "from stdin, or asks for it without showing it).")
        return EXIT_OK
    width = max(len(name) for name in shown)
    for name, masked in shown.items():
        print(f"{name.ljust(width)}  {masked}")
    return EXIT_OK


def run_keys_rm(args: argparse.Namespace, *, data_dir: DataDirProvider) -> int:
    provider = validate_name(args.provider)
    removed = _keys(data_dir()).delete(provider)
    print(f"Removed the key for {provider}." if removed
          else f"No key for {provider} was in the keyring.")
    return EXIT_OK


# ----------------------------------------------------------------------------- route


def _read_text(words: Sequence[str]) -> str:
    if words and list(words) != ["-"]:
        return " ".join(words)
    if sys.stdin is None or sys.stdin.isatty():
        raise _UserError("Give the TEXT to explain, or pipe it on stdin (or pass '-').")
    return sys.stdin.read()


def run_route_explain(args: argparse.Namespace, *, data_dir: DataDirProvider,
                      offline_mode: OfflineProvider) -> int:
    """Decide without generating; prints what the router would do and why."""
    text = _read_text(args.text)
    router = Router.load(data_dir())
    decision = router.decide(
        RouteRequest(text=text, route=args.route, task=args.task),
        RouteState(conversation_sensitive=args.sensitive_conversation, offline=offline_mode()))
    if args.json:
        print(json.dumps(decision.explain_json(), ensure_ascii=False))
        return EXIT_OK
    where = "this machine" if decision.target == "local" else \
        f"{decision.provider} ({decision.target}{', ' + decision.model if decision.model else ''})"
    print(f"route      {decision.target}: {where}" + ("  [REFUSED]" if decision.refused else ""))
    print(f"rule       {decision.rule}")
    print(f"reason     {decision.reason}")
    if decision.sensitive:
        found = ", ".join(f"{c} ×{n}" for c, n in decision.category_counts) or "earlier message"
        print(f"sensitive  yes: {found}")
        for start, end, category in decision.spans:
            print(f"             [{start}, {end}) {category}")
    else:
        print("sensitive  no")
    print("steps      " + "\n           ".join(decision.trace))
    return EXIT_OK


def run_route_policy(args: argparse.Namespace, *, data_dir: DataDirProvider) -> int:
    directory = data_dir()
    path = directory / POLICY_FILE
    created = write_default_policy(path)
    load_policy(path)  # raises PolicyError, with the place, when the file is wrong
    router = Router.load(directory)
    print(f"{path}" + ("  (created from the default; edit it to change routing)" if created
                       else ""))
    for problem in router.problems():
        print(f"  warning: {problem}")
    return EXIT_OK


def run_route_evaluate(args: argparse.Namespace, *, data_dir: DataDirProvider,
                       judge_factory: JudgeFactory | None = None) -> int:
    """Recall per category, hard misses, false positives and time per prompt on a labelled
    set, under this data directory's policy threshold (the default where there is no file);
    with --judge, a local judge model gives its second opinion where the gate says no."""
    cases = read_cases(args.set)  # SetError names the bad line
    path = data_dir() / POLICY_FILE
    threshold = load_policy(path).sensitivity.context_threshold if path.exists() \
        else DEFAULT_THRESHOLD
    if args.judge is not None:
        if judge_factory is None:
            raise ValueError("--judge needs the app's models: run it as `stillroom route "
                             "evaluate`.")
        # "auto" lets the settings choose (the largest installed instruct model that fits).
        second_opinion = judge_factory(None if args.judge == "auto" else args.judge)
        result = evaluate(cases, second_opinion, context_threshold=threshold)
    else:
        result = evaluate(cases, context_threshold=threshold)
    if args.json:
        _print_json(result)
    else:
        print(render(result, verbose=args.verbose))
    return EXIT_OK


# ----------------------------------------------------------------------------- wiring


def add_routing_commands(subparsers: argparse._SubParsersAction,
                         data_dir_provider: DataDirProvider, *,
                         offline_mode: OfflineProvider | None = None,
                         judge_factory: JudgeFactory | None = None
                         ) -> dict[str, argparse.ArgumentParser]:
    """Add `providers`, `keys` and `route` to an argparse sub-command set.

    ``data_dir_provider`` returns the data directory (the app passes its ``data_dir``);
    ``offline_mode`` returns whether offline mode is on (the app passes its setting), so that
    `providers test` and `route explain` respect it; by default, off. ``judge_factory``
    makes the local judge `route evaluate --judge` asks (the app passes one; routing has
    no models of its own).
    """
    offline = offline_mode or (lambda: False)

    def handler(function: Callable[..., int], **bound: Any) -> Callable[[argparse.Namespace], int]:
        return partial(_guarded, partial(function, **bound))

    providers = subparsers.add_parser(
        "providers", help="cloud and on-prem endpoints (OpenAI-compatible)",
        description="Endpoints a message may be routed to. Cloud providers never receive "
                    "sensitive text; on-prem ones may, if the policy says so.")
    actions = providers.add_subparsers(dest="providers_command", metavar="ACTION",
                                       required=True)
    add = actions.add_parser("add", help="add a provider (a preset by name, or any URL)")
    add.add_argument("name", metavar="NAME", help="a preset (see `providers presets`) or your "
                                                  "own name")
    add.add_argument("--base-url", metavar="URL",
                     help="API base, e.g. https://api.example.com/v1 (presets know theirs)")
    add.add_argument("--model", action="append", metavar="ID",
                     help="a model id it serves; repeat for more (the first is the default)")
    add.add_argument("--tier", choices=("cloud", "onprem"),
                     help="cloud (default for custom URLs) or onprem (a server you control)")
    add.add_argument("--preset", choices=sorted(PRESETS), help="start from this preset")
    key_choice = add.add_mutually_exclusive_group()
    key_choice.add_argument("--key", metavar="NAME", help="use the key stored under NAME "
                                                          "(default: the provider's name)")
    key_choice.add_argument("--no-key", action="store_true", help="the server needs no key")
    add.add_argument("--replace", action="store_true", help="replace a provider of that name")
    add.set_defaults(func=handler(run_providers_add, data_dir=data_dir_provider))

    listing = actions.add_parser("list", help="configured providers")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=handler(run_providers_list, data_dir=data_dir_provider))

    presets = actions.add_parser("presets", help="providers Stillroom knows how to reach")
    presets.add_argument("--json", action="store_true")
    presets.set_defaults(func=handler(run_providers_presets))

    remove = actions.add_parser("rm", help="remove a provider")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=handler(run_providers_rm, data_dir=data_dir_provider))

    test = actions.add_parser("test", help="send one tiny real request")
    test.add_argument("name", metavar="NAME")
    test.add_argument("--model", metavar="ID", help="default: the provider's first model")
    test.add_argument("--timeout", type=float, default=30.0, metavar="S",
                      help="seconds to wait for the answer to start (default 30)")
    test.add_argument("--json", action="store_true")
    test.set_defaults(func=handler(run_providers_test, data_dir=data_dir_provider,
                                   offline_mode=offline))

    keys = subparsers.add_parser("keys", help="API keys, kept in the OS keyring only",
                                 description="Keys live in the OS keyring; "
                                             "STILLROOM_KEY_<PROVIDER> in the environment "
                                             "overrides one (for servers and CI).")
    key_actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    set_key = key_actions.add_parser("set", help="store a key (from stdin, or a hidden prompt)")
    set_key.add_argument("provider", metavar="PROVIDER")
    set_key.set_defaults(func=handler(run_keys_set, data_dir=data_dir_provider))
    list_keys = key_actions.add_parser("list", help="stored keys, masked")
    list_keys.add_argument("--json", action="store_true")
    list_keys.set_defaults(func=handler(run_keys_list, data_dir=data_dir_provider))
    remove_key = key_actions.add_parser("rm", help="delete a stored key")
    remove_key.add_argument("provider", metavar="PROVIDER")
    remove_key.set_defaults(func=handler(run_keys_rm, data_dir=data_dir_provider))

    route = subparsers.add_parser("route", help="explain routing decisions; the policy file")
    route_actions = route.add_subparsers(dest="route_command", metavar="ACTION", required=True)
    explain = route_actions.add_parser(
        "explain", help="where a message would go and why (nothing is generated or sent)")
    explain.add_argument("text", nargs="*", metavar="TEXT",
                         help="the message; '-' or nothing reads stdin")
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    explain.add_argument("--route", default="auto", metavar="ROUTE",
                         help="as `chat --route`: auto, local, onprem, cloud or a provider")
    explain.add_argument("--task", metavar="TASK", help="a task label for [[rules]] task")
    explain.add_argument("--sensitive-conversation", action="store_true",
                         help="as if the conversation already held sensitive text")
    explain.set_defaults(func=handler(run_route_explain, data_dir=data_dir_provider,
                                      offline_mode=offline))
    policy = route_actions.add_parser(
        "policy", help="where the policy file is (created from the default if missing); "
                       "checks it")
    policy.set_defaults(func=handler(run_route_policy, data_dir=data_dir_provider))
    evaluate_set = route_actions.add_parser(
        "evaluate", help="measure the sensitivity gate on a labelled JSONL set",
        description='One JSON object a line: {"text", "sensitive", "category", "hard"} '
                    '(optional "lang"); see docs/SENSITIVITY.md.')
    evaluate_set.add_argument("set", type=Path, metavar="SET.jsonl")
    evaluate_set.add_argument("--verbose", action="store_true",
                              help="list every miss and false positive with the gate's "
                                   "explanation")
    evaluate_set.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate_set.add_argument(
        "--judge", metavar="MODEL", nargs="?", const="auto",
        help="ask a local judge model where the gate says not sensitive, as cloud-bound "
             "text is (MODEL: an installed model id; alone: the settings' choice); a timeout "
             "or error counts as kept local")
    evaluate_set.set_defaults(func=handler(run_route_evaluate, data_dir=data_dir_provider,
                                           judge_factory=judge_factory))
    return {"providers": providers, "keys": keys, "route": route}


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m routing.cli --data-dir DIR ...`, until the app CLI wires the commands in."""
    parser = argparse.ArgumentParser(prog="stillroom")
    parser.add_argument("--data-dir", type=Path, required=True, metavar="DIR")
    parser.add_argument("--offline", action="store_true", help="as if offline mode were on")
    holder: dict[str, argparse.Namespace] = {}
    add_routing_commands(parser.add_subparsers(dest="command", required=True),
                         lambda: holder["args"].data_dir,
                         offline_mode=lambda: holder["args"].offline)
    holder["args"] = args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
