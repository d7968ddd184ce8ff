"""`stillroom chat`: one-shot answers and the interactive terminal chat."""

from __future__ import annotations

import argparse
import json
import sys

from app.cli.errors import EXIT_INTERRUPTED, print_error, print_start_report
from app.cli.render import describe_turn
from app.cli.streaming import answer_escalation, stream_to
from app.services import Services
from app.turn.chat_turn import ChatOptions, ChatTurn, RouteRefusedError
from app.turn.service import ChatService
from app.turn.turn_json import confidence_json, cost_json, energy_json, escalation_json

ROUTE_CHOICES = ("auto", "local", "onprem", "cloud")


def run_chat(args: argparse.Namespace) -> int:
    prompt = " ".join(args.prompt).strip()
    if not prompt and not sys.stdin.isatty():
        prompt, problem = read_stdin_text()
        if problem:  # before Services.open: nothing is stored for a prompt we cannot read
            print_error(problem)
            return 2
        if not prompt:
            print_error("no prompt given: pass PROMPT or pipe text on stdin.")
            return 2
    if args.json and not prompt:
        print_error("--json needs a PROMPT (or text on stdin).")
        return 2
    services = Services.open()
    try:
        print_start_report(services)
        route = checked_route(services, args.route)
        options = ChatOptions(model=args.model, system_prompt=args.system,
                              max_tokens=args.max_tokens, temperature=args.temperature,
                              seed=args.seed, route=route)
        chat = services.chat()
        if prompt:
            return _one_shot(chat, prompt, args, options)
        from app.cli.interactive import InteractiveChat

        return InteractiveChat(services, options, args.conversation).run()
    finally:
        services.close()


def read_stdin_text() -> tuple[str, str | None]:
    """The prompt piped on stdin, decoded as UTF-8 from its bytes; or "" and one line
    naming the first byte that is not UTF-8 and where it is. (Python's own stdin decoding
    would turn such bytes into lone surrogates under a C locale, which fail only later,
    when the question is stored.)"""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig").strip(), None  # a BOM is not part of the prompt
    except UnicodeDecodeError as exc:
        return "", (f"stdin is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset "
                    f"{exc.start} cannot be decoded. Convert it first, e.g. "
                    f"`iconv -f latin1 -t utf-8 FILE | stillroom chat`.")


def checked_route(services: Services, route: str) -> str:
    """A typo in --route is an error here, not a silent local answer."""
    word = route.strip().lower()
    if services.router.closed_reason:  # a file is broken: any route is answered locally
        return word
    if word in ROUTE_CHOICES or services.router.provider(word) is not None:
        return word
    configured = ", ".join(p.name for p in services.router.providers) or "none configured"
    raise ValueError(f"--route {route!r} is not auto, local, onprem, cloud or a provider "
                     f"(providers: {configured}).")


def _one_shot(chat: ChatService, prompt: str, args: argparse.Namespace,
              options: ChatOptions) -> int:
    turn = chat.start(prompt, conversation_id=args.conversation, options=options)
    if args.json:
        escalated, failure = None, None
        try:
            for _ in turn:
                pass
            escalated = chat.escalate(turn)
            if escalated is not None:
                try:
                    for _ in escalated:
                        pass
                except RouteRefusedError as exc:  # its provider failed; the first answer stands
                    failure = str(exc)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        print(json.dumps(turn_json(turn, escalated, failure), ensure_ascii=False))
        return 0
    interrupted = stream_to(turn, sys.stdout)
    print(describe_turn(turn), file=sys.stderr)
    if not interrupted:
        interrupted = answer_escalation(chat, turn, sys.stdout)
    return EXIT_INTERRUPTED if interrupted else 0


def route_json(turn: ChatTurn) -> dict[str, object]:
    """Where the answer came from (after any failover) and what the gate found."""
    decision = turn.decision
    return {"target": decision.target, "rule": decision.rule, "reason": decision.reason,
            "provider": decision.provider, "model": decision.model,
            "sensitive": decision.sensitive, "categories": list(decision.categories),
            # Only where the local judge ran (cloud-bound text): its verdict and latency.
            **({"judge": decision.judge.audit_json()} if decision.judge is not None else {})}


def turn_json(turn: ChatTurn, escalated: ChatTurn | None = None,
              escalation_error: str | None = None) -> dict[str, object]:
    result = turn.result
    timings = result.timings if result else None
    return {
        "text": result.text if result else "",
        "model": turn.model.id,
        "conversation_id": turn.conversation_id,
        "route": route_json(turn),
        "usage": {"prompt_tokens": result.prompt_tokens if result else 0,
                  "completion_tokens": result.completion_tokens if result else 0},
        "timings": {
            "ttft_s": timings.ttft_s if timings else None,
            "prefill_tps": timings.prefill_tps if timings else None,
            "decode_tps": timings.decode_tps if timings else None,
            "total_s": timings.total_s if timings else None,
        },
        "finish_reason": result.finish_reason if result else None,
        "energy": energy_json(result),
        "cost": cost_json(result),
        # The local answer's confidence when escalation judged it, and the second answer
        # when it was re-asked elsewhere; null otherwise.
        "confidence": confidence_json(turn),
        "escalation": escalation_json(turn, escalated, escalation_error),
    }
