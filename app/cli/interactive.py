"""The interactive terminal chat: a prompt, streamed answers, and slash-commands."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import replace

from app.cli.errors import user_facing_errors
from app.cli.render import describe_turn, human_bytes
from app.cli.streaming import answer_escalation, stream_to
from app.redaction import redact
from app.services import Services
from app.turn.chat_turn import ChatOptions

HELP = """Commands:
  /new                 start a new conversation
  /model [ID]          show the models, or switch this conversation to ID
  /system [TEXT]       show the system prompt, or set it (a new conversation if none yet)
  /history [ID]        list recent conversations, or open conversation ID and show it
  /help                this list
  /quit                leave (Ctrl-D works too)
While an answer streams, Ctrl-C stops it and keeps what was written."""


class InteractiveChat:
    def __init__(self, services: Services, options: ChatOptions,
                 conversation_id: str | None = None) -> None:
        self.services = services
        self.chat = services.chat()
        self.options = options
        self.conversation_id = services.store.get(conversation_id).id if conversation_id \
            else None
        self.out = sys.stdout
        # The last `/system TEXT` of this session: `/new` starts the next conversation with
        # it (it was stored on the conversation only, so /new lost it).
        self.session_system_prompt: str | None = None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def run(self) -> int:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        model = self.chat.resolve_model(self.options.model)
        self.say(f"Stillroom — chatting with {model.name} on this machine. "
                 f"/help lists commands; /quit leaves.")
        if self.services.recovered_answers:
            self.say(f"({self.services.recovered_answers} answer(s) cut off by an earlier "
                     f"crash were kept and marked interrupted.)")
        if self.conversation_id:
            self._show_conversation(self.conversation_id)
        while True:
            try:
                line = input("you> ")
            except EOFError:
                self.say("")
                return 0
            except KeyboardInterrupt:
                self.say("\n(Ctrl-D or /quit to leave)")
                continue
            line = line.strip()
            if not line:
                continue
            try:
                if line.startswith("/"):
                    if self._command(line) == "quit":
                        return 0
                else:
                    self._ask(line)
            except user_facing_errors() as exc:
                self.say(f"! {exc}")

    def _ask(self, text: str) -> None:
        turn = self.chat.start(text, conversation_id=self.conversation_id, options=self.options)
        self.conversation_id = turn.conversation_id
        self.out.write(f"{turn.model.name}> ")
        stopped = stream_to(turn, self.out)
        print(describe_turn(turn), file=sys.stderr, flush=True)
        escalation = turn.escalation
        if not stopped and escalation is not None and turn.escalates:
            answer_escalation(self.chat, turn, self.out,
                              prompt=f"{escalation.provider or escalation.target}> ")

    def _command(self, line: str) -> str | None:
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        match name.lower():
            case "/quit" | "/exit":
                return "quit"
            case "/help":
                self.say(HELP)
            case "/new":
                self.conversation_id = None
                if self.session_system_prompt is not None:
                    self.options = replace(self.options,
                                           system_prompt=self.session_system_prompt)
                self.say("New conversation.")
            case "/model":
                self._model(rest)
            case "/system":
                self._system(rest)
            case "/history":
                self._history(rest)
            case _:
                self.say(f"Unknown command {name}. /help lists commands.")
        return None

    def _model(self, wanted: str) -> None:
        library = self.services.library
        if not wanted:
            current = self.chat.resolve_model(self.options.model, self._conversation())
            for model in library.list():
                mark = "*" if model.id == current.id else " "
                self.say(f" {mark} {model.id:40} {model.quantization or '':8} "
                         f"{human_bytes(model.size_bytes)}")
            return
        model = library.get(wanted)
        self.options = replace(self.options, model=model.id)
        if self.conversation_id:
            self.services.store.update(self.conversation_id, model_id=model.id)
        self.say(f"Model: {model.name}.")

    def _system(self, text: str) -> None:
        conversation = self._conversation()
        if not text:
            current = conversation.system_prompt if conversation else self.options.system_prompt
            self.say(f"System prompt: {current or '(none: the model default)'}")
            return
        if conversation:
            self.services.store.update(conversation.id, system_prompt=text)
        else:
            self.options = replace(self.options, system_prompt=text)
        self.session_system_prompt = text
        self.say("System prompt set.")

    def _history(self, wanted: str) -> None:
        if wanted:
            self.conversation_id = self.services.store.get(wanted).id
            self._show_conversation(self.conversation_id)
            return
        conversations = self.services.store.list(limit=20)
        if not conversations:
            self.say("No conversations yet.")
        for c in conversations:
            self.say(f"  {c.id}  {c.updated_at:%Y-%m-%d %H:%M}  {c.message_count:3} msgs  "
                     f"{redact(c.title or '') or '(untitled)'}")

    def _show_conversation(self, conversation_id: str) -> None:
        conversation = self.services.store.get(conversation_id)
        self.say(f"— {redact(conversation.title or '') or '(untitled)'} [{conversation.id}]")
        for message in self.services.store.messages(conversation.id):
            note = "" if message.status == "complete" else f" [{message.status}]"
            self.say(f"{message.role}>{note} {message.content}")

    def _conversation(self):
        return self.services.store.get(self.conversation_id) if self.conversation_id else None
