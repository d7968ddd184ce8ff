"""A turn's answer printed as it streams, for the one-shot and the interactive chat; an
escalated second answer after it, announced with its reason."""

from __future__ import annotations

import sys
from typing import TextIO

from app.cli.errors import print_error
from app.cli.render import describe_turn
from app.turn.chat_turn import ChatTurn, RouteRefusedError
from app.turn.service import ChatService


def answer_escalation(chat: ChatService, turn: ChatTurn, out: TextIO,
                      prompt: str = "") -> bool:
    """When the router judged the local answer unsure and re-asks it elsewhere: say so and
    why, then stream the second answer. True if the user stopped it."""
    escalated = chat.escalate(turn)
    if escalated is None or turn.escalation is None:
        return False
    print(f"[escalated: {turn.escalation.reason}]", file=sys.stderr, flush=True)
    if prompt:
        out.write(prompt)
    try:
        interrupted = stream_to(escalated, out)
    except RouteRefusedError as exc:  # its provider failed; the first answer stands
        out.write("\n")
        out.flush()
        print_error(f"escalation failed: {exc}")
        return False
    print(describe_turn(escalated), file=sys.stderr, flush=True)
    return interrupted


def stream_to(turn: ChatTurn, out: TextIO) -> bool:
    """Print the answer as it arrives; Ctrl-C stops it (keeping the text). True if stopped."""
    try:
        for chunk in turn:
            if chunk.text:
                out.write(chunk.text)
                out.flush()
    except KeyboardInterrupt:
        out.write("\n[stopped]\n")
        return True
    out.write("\n")
    return False
