r"""Text helpers shared by the detectors: case folding that keeps offsets, and sentence context.

A note on the patterns in this package: several begin with a character class and only then
look behind, as in r"\d(?<![\w.]\d)" instead of r"(?<![\w.])\d". Both mean "a digit not
preceded by a word character or a dot", but Python's regex engine can skip straight to the
candidates only when a pattern starts with a literal or a class, which makes the second form
several times slower on text where candidates are rare.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator

import ahocorasick_rs


def fold_case(text: str) -> str:
    """Lower-case text without moving any character.

    Detectors search the folded copy with lower-case patterns (faster than IGNORECASE) and report
    offsets into the original, so the two must line up. str.lower() never shortens a character,
    but a few (such as 'İ') lengthen; those are left as they are.
    """
    folded = text.lower()
    if len(folded) == len(text):
        return folded
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


_SENTENCE_ENDS = ".!?\n"
# How far a sentence may reach from a match; keeps each lookup bounded, so scanning stays
# linear in the text's length however many matches there are.
_SENTENCE_REACH = 300

# A sentence that opens like a question or a request for an explanation is about the topic, not
# an instance of it: "what is attorney work product?", "explain what MNPI means".
_DISCUSSION_OPENER = re.compile(
    r"(?:what|what's|how|why|when|which|who|whether|is|are|was|were|does|do|did|can|could|"
    r"should|would|will|may|explain|define|describe|tell me|teach me|compare)\b"
)
# Invented text is not a document: fiction ("write a tense courtroom scene where ...") and
# generic texts to be filled in ("write a generic email disclaimer, something like ...").
_INVENTED = re.compile(
    r"(?:write|draft|give|create|compose)\s+(?:me\s+)?(?:a|an|the|some)\s+(?:[\w-]+\s+){0,5}?"
    r"(?:(?:for|of)\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?)?"
    r"(?:scene|story|short\s+story|novel|thriller|chapter|opening|poem|script|screenplay|"
    r"dialogue|monologue|sketch|episode|plot|disclaimer|template|boilerplate|sample|example)s?\b"
    # An example of the wording wanted: "something like 'this email is confidential ...'".
    r"|something\s+(?:like|along\s+the\s+lines\s+of)\b|along\s+the\s+lines\s+of\b"
)
# A contract's definitions say what a word will mean, not what this document is.
_DEFINITION = re.compile(r"[\"”']\s+(?:means|shall\s+mean|includes|refers\s+to)\b|\bshall\s+mean\b")


def _may_define(sentence: str) -> bool:
    """The substrings every _DEFINITION match needs: most sentences skip the pattern."""
    return "mean" in sentence or "includes" in sentence or "refers" in sentence


# ...unless it points at a concrete document: "is this memo attorney-client privileged?"
_DEICTIC = re.compile(
    r"\b(?:this|these|attached|enclosed|below|following|above|pasted|here's|here is)\b"
)
_LEADING_PUNCTUATION = " \t\"'“”‘’([{-*•>#"


def sentence_around(folded: str, start: int, end: int) -> tuple[int, int, str]:
    """Bounds of the sentence holding [start, end) and the character that ends it ('' at EOF)."""
    low = max(0, start - _SENTENCE_REACH)
    begin = max(folded.rfind(mark, low, start) for mark in _SENTENCE_ENDS) + 1
    begin = max(begin, low)
    high = min(len(folded), end + _SENTENCE_REACH)
    stops = [i for i in (folded.find(mark, end, high) for mark in _SENTENCE_ENDS) if i >= 0]
    stop = min(stops) if stops else high
    terminator = folded[stop] if stop < len(folded) else ""
    return begin, stop, terminator


def is_discussion(folded: str, start: int, end: int) -> bool:
    """True when the match sits in a general question about the topic rather than in content,
    in invented text (fiction, a template to write) or in a contract's definition."""
    begin, stop, terminator = sentence_around(folded, start, end)
    sentence = folded[begin:stop].lstrip(_LEADING_PUNCTUATION)
    if _INVENTED.match(sentence) or (_may_define(sentence) and _DEFINITION.search(sentence)):
        return True
    if _DEICTIC.search(sentence):
        return False
    return terminator == "?" or _DISCUSSION_OPENER.match(sentence) is not None


def is_invented(folded: str, start: int, end: int) -> bool:
    """True when the match sits in a request for fiction or for a generic text to write: even a
    stamp in capitals there is part of the story, not of a document."""
    begin, stop, _ = sentence_around(folded, start, end)
    return _INVENTED.match(folded[begin:stop].lstrip(_LEADING_PUNCTUATION)) is not None


class DigitLed:
    """A number-led pattern that searches ASCII text with its [0-9] spelling (see
    with_ascii_digits); the same answers as the plain pattern on any text."""

    def __init__(self, source: str) -> None:
        self.unicode, self.ascii = with_ascii_digits(source)

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        return (self.ascii if text.isascii() else self.unicode).finditer(text, pos)

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return (self.ascii if text.isascii() else self.unicode).search(text, pos)


def with_ascii_digits(source: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    r"""The pattern, and the same pattern with \d spelt [0-9], for ASCII text.

    On a str pattern \d is a Unicode test: the engine calls the Unicode database for every
    character it looks at, and a digit-led pattern looks at every character of the prompt
    while it skips to candidates. On ASCII text [0-9] matches exactly the same characters and
    is a range test in place. Only \d changes (\w, \s, \b keep their Unicode meaning, which on
    ASCII text is what they always were).
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            escaped = source[i : i + 2]
            if escaped == "\\D":
                raise ValueError("\\D has no [0-9] spelling inside a class; write [^0-9]")
            out.append(("0-9" if in_class else "[0-9]") if escaped == "\\d" else escaped)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            if source[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if source[i + 1 : i + 2] == "]":  # a "]" first in a class is a literal
                out.append("]")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append(char)
        i += 1
    return re.compile(source), re.compile("".join(out))


def near(pattern: re.Pattern[str], folded: str, start: int, end: int) -> bool:
    """Whether pattern occurs in folded[start:end], clamped to the text."""
    return pattern.search(folded, max(0, start), min(len(folded), end)) is not None


# What separates words: ASCII whitespace and punctuation, not hyphens ("write-down" is a word).
_SEPARATORS = b".,;:!?()[]{}\"'/|<>=*#`~ \t\n\r\x0b\x0c"
_SEPARATORS_TO_SPACE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))


def spaced(folded: str) -> str:
    """folded with every word separator made a space and one space added at each end, so that
    " word " occurs in it exactly where folded has word as a whole word.

    Through bytes: bytes.translate with a 256-byte table is one fast pass, str.translate is
    not; only ASCII bytes change, so the UTF-8 stays valid ("surrogatepass": a lone surrogate,
    which JSON allows, must not stop the gate).
    """
    encoded = folded.encode("utf-8", "surrogatepass").translate(_SEPARATORS_TO_SPACE)
    return " " + encoded.decode("utf-8", "surrogatepass") + " "


class SubstringGates:
    """Every detector's pre-checks on the case-folded prompt, answered in one pass.

    A detector registers the substrings (any_of) or whole words (words) that any match of its
    pattern must contain, and gets a bit; the scanner asks once per prompt which bits are
    present. One by one, the thirty-odd substring tests per prompt cost a fifth of a scan over
    the labelled set, and splitting the prompt into words for the word lists another tenth; an
    Aho-Corasick automaton reads the prompt once for all of them (ahocorasick-rs, the Rust
    aho-corasick crate compiled to a DFA: 1.6x faster on these needles than pyahocorasick, for
    about 17 MB of tables).

    The automaton reads spaced(folded), where every separator is a space, so a word needle is
    " word ". Substring needles are mapped the same way ("d.o.b" -> "d o b"): each still occurs
    wherever the original did, so a gate can only open more often, never less. Case-sensitive
    needles (key prefixes) stay plain `in` tests: a second pass over the original text cost
    more than the few tests it would replace.
    """

    def __init__(self) -> None:
        self._needles: dict[str, int] = {}
        self._automaton: tuple[ahocorasick_rs.AhoCorasick, list[int]] | None = None
        self._next_bit = 1

    def any_of(self, *needles: str) -> int:
        """A bit set in present()'s answer when the folded prompt contains one of needles."""
        self._check(needles)
        # Mapped as the prompt is; letters and digits map to themselves (most of the 10,000
        # needles, which would otherwise cost 10 ms at import).
        return self._register(
            needle if needle.isalnum() else spaced(needle)[1:-1] for needle in needles
        )

    def words(self, *words: str) -> int:
        """A bit set when the folded prompt has one of words as a whole word (see spaced)."""
        self._check(words)
        if any(spaced(word)[1:-1] != word for word in words):
            raise ValueError(f"a word cannot hold a separator: {words}")
        return self._register(f" {word} " for word in words)

    def present(self, folded: str) -> int:
        """The bits of every gate with a needle in folded (text.fold_case of the prompt)."""
        automaton, bits_of = self._automaton or self._build()
        haystack = spaced(folded)
        try:
            matches = automaton.find_matches_as_indexes(haystack, overlapping=True)
        except UnicodeEncodeError:
            # A lone surrogate (JSON allows "\ud800") cannot cross into Rust; no needle holds
            # one, so a stand-in character changes no answer.
            haystack = haystack.encode("utf-8", "replace").decode("utf-8")
            matches = automaton.find_matches_as_indexes(haystack, overlapping=True)
        found = 0
        # set() and map() collect the distinct needles in C; only those reach Python.
        for index in set(map(_FIRST, matches)):
            found |= bits_of[index]
        return found

    @staticmethod
    def _check(needles: tuple[str, ...]) -> None:
        if not needles or not all(needles):
            raise ValueError("a gate needs non-empty needles")
        if any(needle != needle.lower() for needle in needles):
            raise ValueError(f"needles are matched in the folded text, so lower case: {needles}")

    def _register(self, needles: Iterable[str]) -> int:
        bit, self._next_bit = self._next_bit, self._next_bit << 1
        for needle in needles:
            self._needles[needle] = self._needles.get(needle, 0) | bit
        self._automaton = None
        return bit

    def _build(self) -> tuple[ahocorasick_rs.AhoCorasick, list[int]]:
        needles = list(self._needles)
        automaton = ahocorasick_rs.AhoCorasick(
            needles, implementation=ahocorasick_rs.Implementation.DFA
        )
        self._automaton = (automaton, [self._needles[needle] for needle in needles])
        return self._automaton


_FIRST = operator.itemgetter(0)

# What a pattern's \s matches besides the ASCII whitespace that spaced() turns into a space
# (str.isspace, as the regex engine uses): needles for "a word, then whitespace" add these.
# Spelt out: deriving them scans every code point, 40 ms at import (the app imports the gate
# on start-up); test_sensitivity_internals.py checks the list against str.isspace.
OTHER_WHITESPACE = (
    "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u1680", "\u2000", "\u2001", "\u2002",
    "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a", "\u2028",
    "\u2029", "\u202f", "\u205f", "\u3000",
)  # fmt: skip


def followed_by_whitespace(*words: str) -> tuple[str, ...]:
    """Needles for each word followed by any whitespace, as spaced() leaves the prompt."""
    return tuple(word + space for word in words for space in (" ", *OTHER_WHITESPACE))


# The one index every detector registers its pre-checks with, at import.
GATES = SubstringGates()


def by_first_letter(terms: tuple[str, ...]) -> str:
    r"""One regex alternation of terms, grouped under their first letter: "d(?:x|iabet\w*)|...".

    Python's regex engine tries alternatives one after another. Grouped, a word is turned away
    after one comparison per letter rather than one per term. Terms keep their order within a
    letter (the engine takes the first that matches); across letters order cannot matter, as a
    position starts with one letter only. Terms that start otherwise (r"\d+\s?mg") stay whole
    and must not be able to start with a letter.
    """
    groups: dict[str, list[str]] = {}
    for term in terms:
        if term[0] in "([\\" and not term.startswith("\\d"):
            raise ValueError(f"{term!r} may start with a letter: spell out its first letters")
        if term[0].isalpha():
            if term[1:2] in ("?", "*", "+", "{"):
                raise ValueError(f"first letter of {term!r} is quantified")
            groups.setdefault(term[0], []).append(term[1:])
        else:
            groups.setdefault(term, []).append("")
    return "|".join(
        key + "(?:" + "|".join(rests) + ")" if key.isalpha() else key
        for key, rests in groups.items()
    )

