"""Assumptions the speed-ups rest on: if one breaks, a detector would silently miss things."""

import random
import re

import pytest

from routing.sensitivity import financial, personal, scan, scanner
from routing.sensitivity.text import (
    GATES,
    OTHER_WHITESPACE,
    SubstringGates,
    by_first_letter,
    spaced,
    with_ascii_digits,
)

# Every pattern that scanner.py lets start searching _NUMBER_LEAD characters before the first
# digit of the text, as (module, name).
NUMBER_LED = [
    (personal, "_INTERNATIONAL"),
    (personal, "_NATIONAL_PHONE"),
    (personal, "_NUMBER_FIRST_ADDRESS"),
    (personal, "_UK_CAPITAL_LED"),
    (personal, "_GROUPED_ID"),
    (personal, "_NINE_DIGITS"),
    (financial, "_CARD"),
    (financial, "_IBAN_START"),
    (financial, "_NINE_DIGITS"),
]

SAMPLES = [
    "+44 20 7946 0958",
    "(415) 555-0132",
    "020 7946 0321",
    "221B Baker Street",
    "8 rue des Lilas",
    "NW8 9AY",
    "AB 12 34 56 C",
    "QQ123456C",
    "123-45-6789",
    "046 454 286",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "021000021",
]


def _texts():
    rng = random.Random(7)
    alphabet = "0123456789 +-().,/ABCNQWYZabc\n"
    texts = list(SAMPLES)
    for sample in SAMPLES:
        texts.append("call " + sample)
        texts.append(sample + " today")
    for _ in range(3000):
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30))))
    return texts


@pytest.mark.parametrize(("module", "name"), NUMBER_LED)
def test_number_led_patterns_start_at_most_number_lead_before_a_digit(module, name):
    pattern = getattr(module, name)
    for text in _texts():
        digit = re.search(r"\d", text)
        if digit is None:
            assert pattern.search(text) is None, text
            continue
        start = max(0, digit.start() - scanner._NUMBER_LEAD)
        assert [m.span() for m in pattern.finditer(text)] == [
            m.span() for m in pattern.finditer(text, start)
        ], text


def test_ascii_number_searches_agree_with_unicode_ones_on_ascii_text():
    for text in _texts():
        assert (scanner._ASCII_DIGIT.search(text) is None) == (
            scanner._DIGIT.search(text) is None
        )
        assert (scanner._ASCII_LONG_NUMBER.search(text) is None) == (
            scanner._LONG_NUMBER.search(text) is None
        )


def test_by_first_letter_matches_like_the_plain_alternation():
    terms = (r"discharged?", r"discharge\s+summary", r"dx", r"\d+\s?mg", r"post-?op", r"ptsd")
    plain = re.compile(rf"\b(?:{'|'.join(terms)})\b")
    grouped = re.compile(rf"\b(?:{by_first_letter(terms)})\b")
    for text in [
        "discharge summary",
        "discharged",
        "dx: ptsd, 10 mg, postop and post-op",
        "xdx 5mg",
    ]:
        assert [m.span() for m in grouped.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ]


def test_by_first_letter_refuses_a_quantified_first_letter():
    with pytest.raises(ValueError):
        by_first_letter(("a?b",))


def test_substring_gates_answer_like_in_tests():
    """present() must set a gate's bit exactly when one of its needles is a substring."""
    gates = SubstringGates()
    groups = [("tel", "phone"), ("box",), ("in confidence", "confided"), ("né", "straße"), ("a",)]
    bits = [gates.any_of(*group) for group in groups]
    rng = random.Random(7)
    alphabet = [*"telphonbxicfd né straße", "phone", "in confidence", "box", "ß"]
    for _ in range(3000):
        folded = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        answer = gates.present(folded)
        for group, bit in zip(groups, bits, strict=True):
            assert bool(answer & bit) == any(needle in folded for needle in group), (folded, group)


def test_word_gates_match_whole_words_only():
    gates = SubstringGates()
    we, write_down, nº = gates.words("we"), gates.words("write-down"), gates.words("nº")
    assert gates.present("we") & we
    assert gates.present("so (we) left; we.") & we
    assert gates.present("we\tare") & we

    assert not gates.present("answer, between") & we
    assert gates.present("a write-down of $4m") & write_down
    assert not gates.present("write down the numbers") & write_down
    assert gates.present("n° 12, nº 4") & nº
    with pytest.raises(ValueError, match="separator"):
        gates.words("d.o.b")


def test_substring_needles_with_separators_still_open_their_gate():
    gates = SubstringGates()
    dob, key = gates.any_of("d.o.b"), gates.any_of("key=")
    assert gates.present("d.o.b: 1 jan 1990") & dob
    assert gates.present("api_key=abc") & key


def test_gates_survive_a_lone_surrogate():
    # JSON allows "\ud800"; the gate must scan such a prompt, not raise.
    assert spaced("a\ud800b") == " a\ud800b "
    assert scan("\ud800 my SSN is 123-45-6789").categories == ("personal",)


def test_substring_gates_registered_by_the_detectors_match_in_tests():
    texts = [*SAMPLES, "Call me on my mobile", "sort code", "ATTORNEY WORK-PRODUCT", "we"]
    for text in texts:
        padded = spaced(text.lower())
        answer = GATES.present(text.lower())
        for needle, bits in GATES._needles.items():
            if needle in padded:
                assert answer & bits == bits, (text, needle)


def test_substring_gates_refuse_needles_that_could_never_match():
    gates = SubstringGates()
    with pytest.raises(ValueError, match="lower case"):
        gates.any_of("Via")  # the prompt is folded first: a capital never matches
    with pytest.raises(ValueError, match="non-empty"):
        gates.any_of("")


@pytest.mark.parametrize(("module", "name"), NUMBER_LED)
def test_digit_led_patterns_give_the_same_spans_with_ascii_digits(module, name):
    pattern = getattr(module, name)
    for text in _texts():
        if text.isascii():
            assert [m.span() for m in pattern.ascii.finditer(text)] == [
                m.span() for m in pattern.unicode.finditer(text)
            ], text


def test_ascii_digit_spelling_rewrites_only_digit_escapes():
    _, ascii_pattern = with_ascii_digits(r"[(\d](?<![\w+\-.][(\d])[^\n\d]{0,3}\d+\\d")
    assert ascii_pattern.pattern == r"[(0-9](?<![\w+\-.][(0-9])[^\n0-9]{0,3}[0-9]+\\d"
    with pytest.raises(ValueError):
        with_ascii_digits(r"[\D]")


def test_other_whitespace_is_every_space_the_regex_engine_knows_beyond_ascii():
    derived = tuple(
        ch for ch in map(chr, range(0x110000)) if ch.isspace() and ch not in " \t\n\r\x0b\x0c"
    )
    assert derived == OTHER_WHITESPACE
    assert all(re.fullmatch(r"\s", ch) for ch in derived)
