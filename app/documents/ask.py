"""Ask a question over documents: one prompt when the text fits the model's context, else
map-reduce (an answer per chunk of parts that fits, then one answer over those), with every
excerpt labelled by where it came from ("page 3") so the answer can cite it.

Qt-free and engine-free: the caller gives a token counter (the engine's, so the count is
the model's own) and a function that answers one prompt (a turn through ChatService, so
every prompt passes the sensitivity gate, the policy and the audit log). `answer_turns`
below is that function for ChatService, shared by the CLI and, later, the GUI.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from app.documents.document import Document

if TYPE_CHECKING:
    from app.turn.chat_turn import ChatOptions, ChatTurn
    from app.turn.service import ChatService

StepKind = Literal["single", "map", "reduce"]
# Tokens a whole prompt (system prompt and chat template included) takes in the model.
PromptCounter = Callable[[str], int]

# Room left unused below the context: token counts of joined text differ from the sum of
# the parts' counts by a few tokens at each seam.
SAFETY_TOKENS = 32
NOT_FOUND = "not in this part"


@dataclass(frozen=True, slots=True)
class Excerpt:
    """One labelled piece of text sent to the model: "[lease.pdf, page 3]"."""

    label: str
    text: str
    page: int | None = None
    # For a partial answer: the first and last source labels it read.
    covers: tuple[str, str] = ("", "")

    def block(self) -> str:
        return f"[{self.label}]\n{self.text.strip()}"


@dataclass(frozen=True, slots=True)
class Step:
    """One prompt of the plan. `final` is the step whose answer is the answer."""

    kind: StepKind
    index: int  # 1-based among steps of its kind
    total: int
    labels: tuple[str, ...]
    final: bool


Answerer = Callable[[str, Step], str]


@dataclass(frozen=True, slots=True)
class DocumentAnswer:
    text: str
    mode: Literal["single", "map_reduce"]
    chunks: tuple[tuple[str, ...], ...]  # the labels in each chunk (one chunk: single)
    citations: tuple[str, ...]  # "page 3" cited by the answer and present in the documents
    unknown_citations: tuple[str, ...]  # cited pages no document has


def excerpts_of(documents: Sequence[Document]) -> list[Excerpt]:
    """Every readable part of the documents and their attachments, labelled. With more than
    one file the label starts with the file's name, so "page 3" is never ambiguous."""
    named = len(documents) > 1 or any(doc.attachments for doc in documents)
    excerpts = []
    for document in documents:
        name = document.path.replace("\\", "/").rsplit("/", 1)[-1].split("#", 1)[0]
        for inner in document.walk():
            if not inner.ok:
                continue
            for part in inner.parts:
                if not part.text.strip():
                    continue
                label = part.label or "text"
                excerpts.append(Excerpt(f"{name}, {label}" if named else label, part.text,
                                        part.page))
    return excerpts


def single_prompt(question: str, excerpts: Iterable[Excerpt]) -> str:
    blocks = "\n\n".join(excerpt.block() for excerpt in excerpts)
    return (f"Answer the question from the document below. Cite the pages you used, like "
            f"(page 3).\n\n{blocks}\n\nQuestion: {question}")


def map_prompt(question: str, excerpts: Sequence[Excerpt], index: int, total: int) -> str:
    blocks = "\n\n".join(excerpt.block() for excerpt in excerpts)
    return (f"This is part {index} of {total} of a long document. Answer the question from "
            f"this part only, citing pages like (page 3). If this part does not answer it, "
            f"say \"{NOT_FOUND}\".\n\n{blocks}\n\nQuestion: {question}")


def reduce_prompt(question: str, partials: Sequence[Excerpt]) -> str:
    blocks = "\n\n".join(partial.block() for partial in partials)
    return (f"The question below was asked of each part of a long document. The answers "
            f"follow, each headed by the pages it read. Write one answer from them, citing "
            f"pages like (page 3); ignore answers that say \"{NOT_FOUND}\".\n\n{blocks}\n\n"
            f"Question: {question}")


def pack(items: Sequence[Excerpt], fits: Callable[[Sequence[Excerpt]], bool]
         ) -> list[list[Excerpt]]:
    """Greedy, in order: each chunk takes items while the prompt made of them still fits.
    An item too long for a prompt of its own is split at line (then word) boundaries, each
    piece keeping its label."""
    chunks: list[list[Excerpt]] = []
    current: list[Excerpt] = []
    queue = list(items)
    while queue:
        item = queue.pop(0)
        if fits([*current, item]):
            current.append(item)
            continue
        if current:
            chunks.append(current)
            current = []
            queue.insert(0, item)
            continue
        halves = _halves(item)
        if halves is None:
            raise ValueError(f"'{item.label}' cannot be split small enough for the model's "
                             f"context; load the model with a longer context.")
        queue[:0] = halves
    if current:
        chunks.append(current)
    return chunks


def _halves(item: Excerpt) -> list[Excerpt] | None:
    text = item.text
    for separator in ("\n", " "):
        cut = text.rfind(separator, 0, len(text) // 2 + 1)
        if cut <= 0:
            cut = text.find(separator, len(text) // 2)
        if 0 < cut < len(text) - 1:
            return [dataclasses.replace(item, text=text[:cut]),
                    dataclasses.replace(item, text=text[cut + 1:])]
    if len(text) > 1:  # one long word: cut it
        middle = len(text) // 2
        return [dataclasses.replace(item, text=text[:middle]),
                dataclasses.replace(item, text=text[middle:])]
    return None


def ask(question: str, documents: Sequence[Document], *, count: PromptCounter,
        prompt_limit: int, answer: Answerer) -> DocumentAnswer:
    """Answer `question` over the documents. `prompt_limit` is how many tokens a prompt may
    take (the context less the answer's room); `count` counts a whole prompt."""
    excerpts = excerpts_of(documents)
    if not excerpts:
        raise ValueError("the documents hold no text to ask about.")
    limit = prompt_limit - SAFETY_TOKENS
    prompt = single_prompt(question, excerpts)
    if count(prompt) <= limit:
        text = answer(prompt, Step("single", 1, 1, _labels(excerpts), final=True))
        return _answer(text, "single", [excerpts], excerpts)

    # The part counter in map_prompt changes with the total; "99 of 99" is its widest form.
    chunks = pack(excerpts, lambda items: count(map_prompt(question, items, 99, 99)) <= limit)
    partials = []
    for index, chunk in enumerate(chunks, start=1):
        step = Step("map", index, len(chunks), _labels(chunk), final=False)
        text = answer(map_prompt(question, chunk, index, len(chunks)), step)
        labels = _labels(chunk)
        partials.append(_partial(text, labels[0], labels[-1]))
    final = _reduce(question, partials, count, limit, answer)
    return _answer(final, "map_reduce", chunks, excerpts)


def _reduce(question: str, partials: list[Excerpt], count: PromptCounter, limit: int,
            answer: Answerer) -> str:
    """One final answer over the partial answers; where they do not fit one prompt, they are
    reduced in groups first (and again, until one prompt holds them)."""
    level = 0
    while True:
        if count(reduce_prompt(question, partials)) <= limit:
            return answer(reduce_prompt(question, partials),
                          Step("reduce", 1, 1, tuple(p.label for p in partials), final=True))
        level += 1
        groups = pack(partials, lambda items: count(reduce_prompt(question, items)) <= limit)
        if len(groups) == 1:  # only splitting inside answers made it fit: take the pieces
            groups = [[item] for item in groups[0]]
        partials = [_partial(answer(reduce_prompt(question, group),
                                    Step("reduce", index, len(groups),
                                         tuple(p.label for p in group), final=False)),
                             group[0].covers[0], group[-1].covers[1])
                    for index, group in enumerate(groups, start=1)]
        if level > 8:  # each level shrinks the text; this is a guard, not a path
            raise ValueError("the partial answers do not shrink to fit the context.")


def _labels(excerpts: Sequence[Excerpt]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(excerpt.label for excerpt in excerpts))


def _partial(text: str, first: str, last: str) -> Excerpt:
    """A partial answer, headed by the span of the document it read (never by the labels
    of earlier reductions, which would grow at each level)."""
    span = first if first == last else f"{first} to {last}"
    return Excerpt(f"answer from {span}", text.strip() or NOT_FOUND, covers=(first, last))


_PAGE_CITATION = re.compile(r"\bpages?\s+(\d+)(?:\s*(?:-|–|to)\s*(\d+))?", re.IGNORECASE)


def cited_pages(text: str) -> list[int]:
    """Page numbers an answer cites: "page 3", "pages 4-6" (each page), "Page 7"."""
    pages: list[int] = []
    for match in _PAGE_CITATION.finditer(text):
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        pages.extend(range(first, min(last, first + 50) + 1) if last >= first else [first])
    return list(dict.fromkeys(pages))


def _answer(text: str, mode: Literal["single", "map_reduce"],
            chunks: Sequence[Sequence[Excerpt]], excerpts: Sequence[Excerpt]
            ) -> DocumentAnswer:
    present = {excerpt.page for excerpt in excerpts if excerpt.page is not None}
    cited = cited_pages(text)
    return DocumentAnswer(
        text=text, mode=mode, chunks=tuple(_labels(chunk) for chunk in chunks),
        citations=tuple(f"page {page}" for page in cited if page in present),
        unknown_citations=tuple(f"page {page}" for page in cited if page not in present))


class TurnAnswerer:
    """Answers each step with a ChatService turn in a conversation of its own (a step's
    prompt must not carry the earlier steps as history). `consume` iterates a turn (the
    CLI prints the final one) and returns its text.

    Fail closed on sensitivity: when any of the documents' text is sensitive (the router's
    own gate and custom terms), each step's conversation is marked sensitive before its
    question, so the router's sticky rule keeps every step where sensitive text may go
    (the policy's sensitivity target; a forced cloud route answered locally or refused),
    even a step whose own excerpt looks harmless: it is part of a sensitive document, and
    its partial answer feeds the final one.
    """

    def __init__(self, chat: ChatService, options: ChatOptions, *, sensitive: bool,
                 consume: Callable[[ChatTurn, Step], str]) -> None:
        self.chat = chat
        self.options = options
        self.sensitive = sensitive
        self.consume = consume
        self.turns: list[ChatTurn] = []

    def __call__(self, prompt: str, step: Step) -> str:
        conversation_id = self._sensitive_conversation() if self.sensitive else None
        turn = self.chat.start(prompt, conversation_id=conversation_id, options=self.options)
        self.turns.append(turn)
        return self.consume(turn, step)

    def _sensitive_conversation(self) -> str:
        parts = self.chat.parts
        system = self.options.system_prompt if self.options.system_prompt is not None \
            else parts.settings.system_prompt
        model = self.chat.resolve_model(self.options.model)
        conversation = parts.store.create(model_id=model.id, system_prompt=system)
        parts.store.mark_sensitive(conversation.id)
        return conversation.id


def documents_sensitive(chat: ChatService, documents: Sequence[Document]) -> bool:
    """The router's gate over all the documents' text, before any of it is sent anywhere."""
    sensitivity = chat.parts.router.policy.sensitivity
    return any(sensitivity.scan(excerpt.text).sensitive for excerpt in excerpts_of(documents))
