"""`stillroom chat --file F [--file G] PROMPT`: a question about documents. The files are
read first (a file that cannot be read stops here, with its one-line reason); then
app.documents.ask answers in one prompt or map-reduce, every prompt a ChatService turn."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli.chat_cmd import checked_route, turn_json
from app.cli.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, print_error, print_start_report
from app.cli.render import describe_turn
from app.cli.streaming import stream_to
from app.documents.ask import DocumentAnswer, Step, TurnAnswerer, ask, documents_sensitive
from app.documents.document import Document
from app.documents.readers import read_document
from app.services import Services
from app.turn.chat_turn import ChatOptions, ChatTurn
from inference.engines.types import ChatMessage


def run_chat_with_files(args: argparse.Namespace) -> int:
    prompt = " ".join(args.prompt).strip()
    if not prompt and not sys.stdin.isatty():
        prompt = sys.stdin.read().strip()
    if not prompt:
        print_error("--file needs a question: stillroom chat --file FILE \"QUESTION\".")
        return EXIT_USER_ERROR
    if args.conversation:
        print_error("--file starts its own conversations; leave out --conversation.")
        return EXIT_USER_ERROR
    documents = [read_document(Path(name)) for name in args.file]
    refused = [document for document in documents if not document.ok]
    for document in refused:
        print_error(f"{document.reason} (status: {document.status})")
    if refused:
        return EXIT_USER_ERROR
    for document in documents:
        for inner in document.walk():
            if not inner.ok:
                print_error(f"warning: skipped {inner.reason}")

    services = Services.open()
    try:
        print_start_report(services)
        options = ChatOptions(model=args.model, system_prompt=args.system,
                              max_tokens=args.max_tokens, temperature=args.temperature,
                              seed=args.seed, route=checked_route(services, args.route))
        return _ask(services, documents, prompt, options, args.json)
    finally:
        services.close()


def _ask(services: Services, documents: list[Document], question: str,
         options: ChatOptions, as_json: bool) -> int:
    chat = services.chat()
    settings = services.settings
    model = chat.resolve_model(options.model)
    with services.energy.busy():  # the model's tokenizer counts; loading is not idle draw
        services.library.verify(model)
        engine = services.engines.engine_for(model)
    system = options.system_prompt if options.system_prompt is not None \
        else settings.system_prompt
    frame = [ChatMessage("system", system)] if system else []

    def count(prompt: str) -> int:
        return engine.count_tokens([*frame, ChatMessage("user", prompt)])

    interrupted = False

    def consume(turn: ChatTurn, step: Step) -> str:
        nonlocal interrupted
        if step.final and not as_json:
            interrupted = stream_to(turn, sys.stdout)
            print(describe_turn(turn), file=sys.stderr)
        else:
            if not step.final:
                print(f"stillroom: reading part {step.index} of {step.total} "
                      f"({step.labels[0]} to {step.labels[-1]})", file=sys.stderr)
            for _ in turn:
                pass
        return turn.result.text if turn.result else ""

    answerer = TurnAnswerer(chat, options, sensitive=documents_sensitive(chat, documents),
                            consume=consume)
    max_tokens = options.max_tokens or settings.max_tokens
    try:
        result = ask(question, documents, count=count,
                     prompt_limit=engine.context_length - max_tokens, answer=answerer)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    final = answerer.turns[-1]
    if as_json:
        print(json.dumps({**turn_json(final), "document": document_json(result, documents)},
                         ensure_ascii=False))
        return 0
    if result.unknown_citations:
        print_error(f"note: the answer cites {', '.join(result.unknown_citations)}, which "
                    f"the document does not have.")
    return EXIT_INTERRUPTED if interrupted else 0


def document_json(result: DocumentAnswer, documents: list[Document]) -> dict[str, object]:
    return {"files": [{"path": d.path, "sha256": d.sha256, "kind": d.kind,
                       "parts": len(d.parts)} for d in documents],
            "mode": result.mode, "chunks": [list(chunk) for chunk in result.chunks],
            "citations": list(result.citations),
            "unknown_citations": list(result.unknown_citations)}
