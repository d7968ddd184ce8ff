"""The contextual layer: text that is sensitive because of who said it to whom, and why.

The detectors find what has a shape (a card, a stamp, a diagnosis next to a name). A lawyer's
note that "the client told us he signed after the deadline; how do we advise him?" has none:
it is sensitive because of its situation. This layer reads the situation from cue families
(cues.py: role, matter, secrecy, stake, marker, and a particular person or amount found here
by pattern), adds their weights into a score and compares it with the policy's threshold
(`[sensitivity] context_threshold`, default DEFAULT_THRESHOLD). One family alone stays below
it (a question about "clients" or "salaries" is not a confidence); who + what + how it was
shared reaches it.

Dampeners lower the score for text that only looks like a situation: fiction, a template with
blanks, made-up test data, news already public, a general question about no one in
particular. They never touch the hard categories: this layer only adds findings, it never
removes a detector's.

The result carries its explanation (which cues fired, the score, the threshold, what lowered
it), so the route explanation and `stillroom route evaluate --verbose` can say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing.sensitivity.cues import CUES, DAMPENERS, WEIGHTS, Dampener
from routing.sensitivity.text import GATES

# Chosen on the tuning sets (tests/data/sensitivity): at 0.8 the context_tuning set's recall
# reaches 100% for 1.6% false positives; at 0.7 and below false positives climb on every set.
DEFAULT_THRESHOLD = 0.8
# Each cue and dampener gets a bit in the scanner's one automaton pass (text.GATES): a prompt
# with none of the stems (most plain prompts) costs one AND here.
_CUE_BITS = tuple((cue, GATES.any_of(*cue.needles)) for cue in CUES)
_ANY_CUE = 0
for _cue, _bit in _CUE_BITS:
    _ANY_CUE |= _bit
# "My lawyer says ..." may open a general question; "our client" never does.
_OWN_SITUATION = "the writer's own situation"
_CUE_OF_BIT = {bit: cue for cue, bit in _CUE_BITS}
_ORDER = {cue: i for i, cue in enumerate(CUES)}
# A private matter (a dismissal, a salary, a diagnosis, a divorce, wrongdoing) of somebody in
# particular is more than the sum of the two: it is that person's, whoever else is named.
PERSONAL_MATTERS = frozenset({"hr", "health", "client_confidence"})
PERSONAL_BONUS = 0.3
_PERSONS = frozenset({"a named person", "a named party", "a particular person (he, she)"})
_MOST_FROM_PARTICULARS = WEIGHTS["particular"] * 1.5 + PERSONAL_BONUS
_DAMPENER_BITS = tuple((dampener, GATES.any_of(*dampener.needles)) for dampener in DAMPENERS)

# A particular case: an amount of money, a person named with an honorific, by first and last
# name in mid-sentence or right after a role word, a forwarded message's header lines.
_AMOUNT = re.compile(
    # Digit-led (see text.py): "$3M" is found from its "3", the symbol checked behind it.
    r"\d(?:(?<=[$€£¥₹]\d)|(?<=[$€£¥₹]\s\d)|(?:[.,]\d+)?\s?(?:[$€£¥₹]|k\b|m\b|mn\b|bn\b|"
    r"million|billion|mio\b|mrd\b|millions?|milliards?|millones|milioni|miljoen|milhões|mln\b|"
    r"tys\b|eur\b|usd\b|gbp\b|chf\b|pln\b|jpy\b|cny\b|万|億|亿))"
)
_HONORIFIC_NAME = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|[Hh]err|[Hh]errn|Hr|[Ff]rau|M|Mme|Mlle|[Ss]r|[Ss]ra|[Dd]hr|[Mm]evr|[Pp]an|[Pp]ani|"
    r"[Ss]ig|[Ss]ig\.ra|[Ss]ignor|[Ss]ignora|[Dd]on|[Dd]oña|[Ss]enhor|[Ss]enhora)\.?\s"
    r"[A-ZÀ-Ý][\w'\-]+"
)
_MID_SENTENCE_NAME = re.compile(
    r"(?<=[a-zà-ÿ,:] )[A-ZÀ-Ý][a-zà-ÿ'\-]+ (?:(?:van|von|de|da|del|di|le|la)\s)?"
    r"[A-ZÀ-Ý][a-zà-ÿ'\-]+"
)
# The honorifics as whole words for the automaton: most texts have none and skip the pattern.
_HONORIFIC_WORD = GATES.words("mr", "mrs", "ms", "dr", "herr", "herrn", "hr", "frau", "m", "mme",
                              "mlle", "sr", "sra", "dhr", "mevr", "pan", "pani", "sig")
# A list of people, one a line or entry: a pay table ("Teresa Gomez | Office Manager | $62,400"),
# a roster, figures by surname ("Kowalska – 14 500; Zieliński – 11 200"). Two entries or more.
_ROSTER = re.compile(
    r"(?m)(?:^|[;:])[ \t|*•\-]*(?:[A-ZÀ-ÝĀ-Ž][^\W\d_]+[ \t][A-ZÀ-ÝĀ-Ž][^\W\d_]+[ \t]*[|\t,;:]"
    r"|[A-ZÀ-ÝĀ-Ž][^\W\d_]+[ \t]+[–—\-:][ \t]*\d)"
)
# A case named by its parties: "Walsh v. Greenleaf", "Garnier c/ Banque Arvel", "Nowak przeciwko
# Polmetal". A dispute between particular parties.
_CAPTION = re.compile(
    r"[A-ZÀ-ÝĀ-Ž][^\W\d_]+\s(?:v\.?|vs\.?|c/|c\.|contre|gegen|contra|contro|tegen|przeciwko)"
    r"\s(?:[A-ZÀ-ÝĀ-Ž][^\W\d_]+\s)?[A-ZÀ-ÝĀ-Ž][^\W\d_]+"
)
_CAPTION_WORD = GATES.words("v", "vs", "c", "contre", "gegen", "contra", "contro", "tegen",
                            "przeciwko")
_DISPUTE = next(cue for cue in CUES if cue.label == "a dispute")
_VIEW = next(cue for cue in CUES if cue.label == "a view or recommendation")
_LEGAL_RISK = next(cue for cue in CUES if cue.label == "a legal risk assessed")
# Letting somebody go: "we're letting Kevin go Friday", "let them go", a dismissal by idiom.
_LET_GO = re.compile(r"[Ll]et(?:ting|s)?\s+(?:[A-ZÀ-Ý][a-zà-ÿ]+|him|her|them)\s+go\b")
_LET = GATES.words("let", "lets", "letting")
_DISMISSAL = next(cue for cue in CUES if cue.label == "a dismissal or discipline")
# Chinese and Japanese pronouns stand inside words (no spaces): "她本人还不知道". Not 他
# alone, which is also "other" (其他).
_CJK_THIRD_PERSON = GATES.any_of("她", "彼女", "他的", "他本人", "彼は", "彼の")
# Somebody in particular, by pronoun: "he asked why his bonus was cut", "sie ist krank".
_THIRD_PERSON = GATES.words(
    # Not the words that mean something else as often: "on" (Polish he), "il" (Italian the),
    # "sie"/"ihr" (German also you, they, your).
    "he", "she", "his", "her", "him", "er", "ihm", "sein", "seine", "elle", "lui", "él",
    "ella", "lei", "suo", "sua", "hij", "zij", "hem", "haar", "ele", "ela", "dele", "dela",
    "ona", "jego", "jej", "彼", "彼女", "他", "她")
_ROLE_NAME = re.compile(
    r"\b(?:client|employee|colleague|patient|paziente|paciente|patiënt|pacjent|candidate|"
    r"witness|manager|mandant(?:in)?|"
    r"mitarbeiter(?:in)?|kolleg(?:e|in)|salarié(?:e)?|collègue|empleado|empleada|dipendente|"
    r"collega|werknemer|medewerker|funcionári[oa]|pracowni(?:k|czka))\s[A-ZÀ-Ý][a-zà-ÿ'\-]+"
)
# A first name alone, where it is plainly a person: "Kevin's", "Greta from finance", "Priya,"
# opening a message, "Hi Sam".
_DEPARTMENTS = ("finance", "hr", "legal", "sales", "marketing", "ops", "operations", "it",
                "engineering", "accounting", "payroll", "support", "product", "design", "data",
                "compliance", "procurement", "logistics", "admin", "research", "team")
_DEPARTMENT_WORD = GATES.words(*_DEPARTMENTS)
_NAME_FROM_DEPARTMENT = re.compile(
    r"[A-ZÀ-Ý](?<!\w[A-ZÀ-Ý])[a-zà-ÿ]{2,}\s(?:from|in|at|on)\s(?:the\s|my\s|our\s)?"
    rf"(?:{'|'.join(_DEPARTMENTS)})\b"
)
_GREETINGS = ("hi", "hello", "dear", "hallo", "bonjour", "hola", "ciao", "olá", "cześć")
_GREETING_WORD = GATES.words(*_GREETINGS)
_GREETING_NAME = re.compile(rf"(?i:{'|'.join(_GREETINGS)})\s[A-ZÀ-Ý][a-zà-ÿ]+")
# A message that opens by addressing someone: "'Priya, the partners decided ...". Searched in
# "\n" + text, so the text's own start counts as a line start.
_VOCATIVE = re.compile(
    r"[\n'\"“‘]\s*(?!(?:Members|Team|Everyone|All|Folks|Guys|Thanks|Please|Note|Yes|"
    r"Okay|Also|Well|Friends|Colleagues|Today|Tomorrow|Yesterday|However|Sorry|Sure)\b)"
    r"[A-ZÀ-Ý][a-zà-ÿ]{2,},\s"
)
# "Kevin's", but also "Apple's" and "Parkinson's": somebody or something particular.
_POSSESSIVE_NAME = re.compile(
    r"[A-ZÀ-Ý](?<!\w[A-ZÀ-Ý])(?!(?:hat|here|ere|et|ho|he|his|hen)['’]s)[a-zà-ÿ]{2,}['’]s\b"
)
_CJK_NAME = re.compile(
    r"[\u4e00-\u9fff\u30a0-\u30ff]{1,4}(?:さん|様|氏|部長|課長|先生|女士|总|经理)"
)
_HEADER = re.compile(
    r"(?m)^\s*(?:from|to|subject|re|cc|von|an|betreff|de|objet|para|asunto|oggetto|da|van|aan|"
    r"onderwerp|assunto|od|do|temat|件名|主题|发件人)\s?[:：]"
)


# Secrecy said in a sentence rather than a set phrase: who must not be told, who alone knows,
# when it becomes known. One pattern per language, each run only when the automaton saw one of
# its anchor words, and each starting with its anchor (no leading \b), so the engine skips to
# candidates instead of trying every alternative at every position.
_WORDS = r"(?:[\w'’]+\s+)"
_NOT_TOLD = tuple((GATES.any_of(*anchors), re.compile(pattern)) for anchors, pattern in (
    (("don", "didn", "haven", "hasn", "won", "shouldn", "mustn", "n’t", " not ", " never "),
     # The apostrophe is optional: chat is typed "dont", "havent".
     r"(?:don['’]?t|do not|didn['’]?t|did not|haven['’]?t|have not|hasn['’]?t|has not|not yet|"
     r"won['’]t|will not|shouldn['’]?t|mustn['’]?t|never)\s+" + _WORDS + r"{0,3}?"
     r"(?:tell|told|inform|informed|mention|share|shared|put|post|forward|say|said|know|knows|"
     r"aware|disclose|announce|circulate|spread|produce|produced|concede|admit)\b"
     r"|(?:should|must|can)\s*(?:not|n['’]t)\s+go\s+to\b|not\s+" + _WORDS + r"{0,5}?yet\b"),
    ((" only ", " asked that ", "nobody", "no one", "noone", " keep ", " before "),
     r"only\s+(?:i|me|you|we|us|the\s+\w+)\s+(?:\w+\s+)?(?:know|knows)\b(?!\s+how)"
     r"|asked\s+that\s+only\b"
     r"|(?:nobody|no one|noone)\s+" + _WORDS + r"{0,4}?(?:knows?|is aware)\b"
     r"|keep\s+(?:this|that|it)\s+(?:\w+\s+)?(?:quiet|private|confidential|internal|between)"
     r"|before\s+(?:\w+\s+){0,4}?(?:knows|hears|finds\s+out|is\s+told|are\s+told)\b"),
    (("nicht", "niemand", "bevor", " wird das erst", " wird es erst"),
     r"nicht\s+(?:\w+\s+){0,2}?(?:sagen|erzählen|informieren|weitergeben|erwähnen)\b"
     r"|noch\s+nicht\s+(?:\w+\s+)?(?:informiert|gesagt|mitgeteilt|bekannt|öffentlich)"
     r"|(?:öffentlich|bekannt)\s+wird\s+(?:das|es|dies)\s+erst\b|niemand\s+(?:\w+\s+){0,4}?weiß"
     r"|bevor\s+(?:\w+\s+){0,4}?(?:weiß|erfährt)"),
    ((" ne ", "pas encore", "personne", "avant que"),
     r"ne\s+(?:le\s+|lui\s+|leur\s+)?(?:dis|dites|mentionne[zr]?|partage[zr]?)\b"
     r"|pas\s+encore\s+(?:été\s+)?(?:dit|informé|prévenu|annoncé|au\s+courant)"
     r"|personne\s+(?:\w+\s+){0,4}?(?:ne\s+)?(?:sait|est\s+au\s+courant)"
     r"|avant\s+que\s+(?:\w+\s+){0,4}?sache"),
    ((" no ", "nadie", "antes de que", "antes que"),
     r"no\s+(?:se\s+lo\s+|le\s+|les\s+)?(?:digas|digáis|menciones|comentes|cuentes)\b"
     r"|(?:todavía|aún)\s+no\s+(?:se\s+lo\s+|le\s+|les\s+)?(?:hemos|ha|han|sabe|saben)\b"
     r"|nadie\s+(?:\w+\s+){0,4}?sabe\b|antes\s+de\s+que\s+(?:\w+\s+){0,4}?sepa"
     r"|antes\s+que\s+(?:\w+\s+){0,4}?saiba"),
    ((" non ", "nessuno", "prima che"),
     r"non\s+(?:lo\s+|gli\s+|le\s+)?(?:dire|dirlo|dirgli|menzionare|sa|sanno)\b"
     r"|non\s+vuole\s+che\s+(?:lo\s+)?sappia|nessuno\s+(?:\w+\s+){0,4}?sa\b"
     r"|prima\s+che\s+(?:lo\s+)?(?:sappia|sappiano|venga)"),
    (("niet", "niemand", "voordat"),
     r"niet\s+(?:\w+\s+)?(?:vertellen|delen|doorsturen|melden)\b"
     r"|niemand\s+(?:\w+\s+){0,4}?weet\b|weet\s+(?:het\s+|er\s+)?(?:nog\s+)?niet"
     r"|voordat\s+(?:\w+\s+){0,4}?weet"),
    (("não", "ningu"),
     r"não\s+(?:lhe\s+|o\s+|a\s+)?(?:conte|contes|diga|digas|mencione|partilhe)\b"
     r"|ainda\s+não\s+(?:\w+\s+)?(?:sabe|sabem|contamos|dissemos|foi)\b"
     r"|ningu[ée]m\s+(?:\w+\s+){0,4}?sabe\b"),
    ((" nie ", "nikt", "zanim"),
     r"nie\s+(?:\w+\s+)?(?:mów|mówimy|informuj|informujemy|wie|wiedzą)\w*"
     r"|nikt\s+(?:\w+\s+){0,4}?(?:nie\s+)?wie\b|zanim\s+(?:\w+\s+){0,4}?dowie"),
    (("まだ", "ないで", "知らせない", "还没", "不要", "别", "只有"),
     r"まだ(?:伝えて|言って|知らせて|話して)|伝えないで|言わないで|知らせない"
     r"|还没(?:告诉|通知|公布|公开)|不要(?:告诉|说出去|透露)|别(?:告诉|说出去)|只有[^，。]{1,8}知道"),
))


def _not_told(folded: str, gates: int) -> bool:
    return any(gates & bit and pattern.search(folded) for bit, pattern in _NOT_TOLD)


# Blanks to fill in: [CLIENT NAME], [Name], ____, {{client}}, <EMPLOYEE>.
_BLANK = re.compile(r"\[[A-Z][A-Za-z _\-]{2,}\]|_{3,}|\{\{\s*\w|<[A-Z][A-Z _]{2,}>")
_TEMPLATE = next(dampener for dampener in DAMPENERS if dampener.name == "template")
_GENERAL = next(dampener for dampener in DAMPENERS if dampener.name == "general")
# A text that opens as a question about a topic ("can in-house counsel's advice be
# privileged?"), not as a request ("can you summarise ...").
_QUESTION = re.compile(
    r"(?:what|what's|how|why|when|which|is|are|does|do|can(?! you)|could(?! you)|should|"
    r"explain|define|describe|compare|was ist|wie|warum|qu'est|comment|pourquoi|qué|cómo|"
    r"por qué|cosa|come|perché|wat|hoe|waarom|o que|como|porque|czym|jak|dlaczego|quel|quelle|"
    r"quels|quelles|welche|welcher|welches|cuál|cuáles|quale|quali|welke|qual|quais|jaki|jaka|"
    r"jakie)\b"
)


# Text that is made up: a story, a template, test data, an example. Its personal details (a
# phone, an address, a birthday) are nobody's, and its situations are nobody's either.
_INVENTION = tuple((dampener, bit) for dampener, bit in _DAMPENER_BITS
                   if dampener.name in ("fiction", "template", "synthetic", "example"))
# Names whose word alone is weak evidence ("use this template to reply to our client ..."):
# they do not count where the text is a particular case (see ContextAssessment.particular).
_WEAK_INVENTION = frozenset({"template", "example"})
# Text about a subject rather than a case: a lesson, the news, a general question. Its
# situations (a privilege stamp quoted in a course, results the news reported) are nobody's;
# an identifier in it still is somebody's, so personal findings stay.
_DISCUSSION = tuple((dampener, bit) for dampener, bit in _DAMPENER_BITS
                    if dampener.name in ("policy", "training", "public", "hearsay", "general"))


def invented(text: str, gates: int, situation: ContextAssessment | None = None) -> str | None:
    """What the text reads as when it is invented (fiction, a template with blanks, made-up
    test data, an example), or None.

    The scanner drops the soft findings in such text: the keyword detectors' situations (a
    clinical word next to a name, an unannounced deal, a privilege stamp) and the personal
    details that have no checksum (phones, addresses, dates of birth, e-mail addresses): a
    novel's outline that mentions a diagnosis is not anybody's health record, a fixture's
    phone number is nobody's. Hard identifiers (cards, IBANs, keys, national ids with check
    digits, machine-readable zones) are never dropped. A template or an example named only by
    its word does not count where something particular was told (our client, in confidence).
    """
    particular = situation is not None and situation.particular
    for dampener, bit in _INVENTION:
        if gates & bit and not (particular and dampener.name in _WEAK_INVENTION):
            return dampener.says
    if not particular and ("_" in text or "[" in text or "{" in text or "<" in text) \
            and _BLANK.search(text):
        return _TEMPLATE.says  # "fill in the blanks with Mr Llewellyn's details" is a case
    return None


# Somebody in particular: a lesson or a news item about them is still about them.
_SOMEBODY = frozenset({"a named person", "a particular person (he, she)",
                       "a particular person's private matter"})


def discussed(gates: int, situation: ContextAssessment | None) -> Dampener | None:
    """Which dampener says the text discusses a subject (training, public news, a general
    question) rather than a case, or None. Not where the contextual layer read a case: a
    secrecy cue, a stamp, a stake (our client) or somebody in particular makes it one."""
    if situation is not None and (situation.particular or situation.sensitive or any(
            family in ("secrecy", "marker") or label in _SOMEBODY
            for family, label in situation.cues)):
        return None
    for dampener, bit in _DISCUSSION:
        if gates & bit:
            return dampener
    return None


@dataclass(frozen=True, slots=True)
class ContextAssessment:
    """What the contextual layer read in a text, and why it decided as it did."""

    score: float
    threshold: float
    cues: tuple[tuple[str, str], ...]  # (family, label), in the order cues.py lists them
    lowered_by: tuple[str, ...]  # what each dampener says: "reads as fiction"
    category: str
    # A case rather than a subject: something told in confidence, our client, a person named
    # with an honorific or role, an amount, a forwarded message.
    particular: bool = False

    @property
    def sensitive(self) -> bool:
        return self.score >= self.threshold

    def explain(self) -> str:
        """One line: "context 1.20 >= 1.00: a client (role), told us (secrecy); ..."."""
        relation = ">=" if self.sensitive else "<"
        fired = ", ".join(f"{label} ({family})" for family, label in self.cues) or "no cues"
        line = f"context {self.score:.2f} {relation} {self.threshold:.2f}: {fired}"
        if self.lowered_by:
            line += "; lowered: " + "; ".join(self.lowered_by)
        return line

    def to_json(self) -> dict:
        return {
            "score": round(self.score, 3),
            "threshold": self.threshold,
            "sensitive": self.sensitive,
            "category": self.category,
            "cues": [{"family": family, "cue": label} for family, label in self.cues],
            "lowered_by": list(self.lowered_by),
        }


# Which category a finding is filed under when several matter cues fired: the most specific.
_CATEGORY_ORDER = ("health", "hr", "litigation", "mnpi", "privilege", "client_confidence")


def assess(text: str, folded: str, gates: int, threshold: float = DEFAULT_THRESHOLD, *,
           has_digits: bool = True) -> ContextAssessment | None:
    """Score text's situation; None when no cue at all fired (most prompts).

    The patterns (names, amounts, blanks, a question's opening) cost more than the automaton's
    bits, so each runs only where it can change the answer: particulars where they could lift
    the score over the threshold, the pattern dampeners where the score is over it.
    """
    present = gates & _ANY_CUE
    # Two situations told by a pattern rather than a stem: letting somebody go, a case caption.
    by_pattern = []
    if gates & _LET and _LET_GO.search(text):
        by_pattern.append(_DISMISSAL)
    if gates & _CAPTION_WORD and _CAPTION.search(text):
        by_pattern.append(_DISPUTE)
    if not present and not by_pattern:
        return None
    fired = by_pattern
    while present:  # only the bits that are set: usually one to five of the forty cues
        bit = present & -present
        if _CUE_OF_BIT[bit] not in by_pattern:
            fired.append(_CUE_OF_BIT[bit])
        present ^= bit
    fired.sort(key=_ORDER.__getitem__)
    if _VIEW in fired and not _legal_view(fired):
        fired.remove(_VIEW)  # "my colleague recommended a dentist": nobody's legal advice
    if any(cue.family == "marker" for cue in fired):
        # "confidential" inside a stamp ("strictly confidential") is the stamp, not a second cue.
        fired = [cue for cue in fired if cue.label != "confidential"]
    by_family: dict[str, list[float]] = {}
    for cue in fired:
        by_family.setdefault(cue.family, []).append(cue.weight)
    cues = [(cue.family, cue.label) for cue in fired]
    raw = sum(_family_weight(family, shares) for family, shares in by_family.items())
    particular: list[str] = []
    private_matter = False
    could_add_secrecy = 0.0 if "secrecy" in by_family else WEIGHTS["secrecy"]
    if raw + _MOST_FROM_PARTICULARS + could_add_secrecy >= threshold:
        particular = _particulars(text, folded, gates, has_digits, "role" in by_family)
        if particular:
            by_family["particular"] = [1.0] * len(particular)
            cues += [("particular", label) for label in particular]
            raw += _family_weight("particular", by_family["particular"])
            # Only a plainly private matter: an investigation may be of a missing pallet.
            if _PERSONS & set(particular) and any(
                    cue.family == "matter" and cue.category in PERSONAL_MATTERS
                    and cue.weight == 1.0 for cue in fired):
                raw += PERSONAL_BONUS
                private_matter = True
                cues.append(("particular", "a particular person's private matter"))
    if "secrecy" not in by_family and raw + WEIGHTS["secrecy"] >= threshold \
            and _not_told(folded, gates):
        by_family["secrecy"] = [1.0]
        cues.append(("secrecy", "not to be told"))
        raw += WEIGHTS["secrecy"]
    # A general question is about no particular person or matter: no stake, nobody named as
    # a person, no amount, no forwarded message, nothing said in confidence.
    stakes = {cue.label for cue in fired if cue.family == "stake"}
    counsel = any(cue.family == "role" and cue.category == "privilege" for cue in fired)
    # A weak secrecy cue ("confidential", "discreet") is also what a general question is about.
    told = any(share == 1.0 for share in by_family.get("secrecy", ()))
    particular_case = told or bool(stakes - {_OWN_SITUATION}) or bool(
        set(particular) - {"a named party", "a particular person (he, she)"})

    factor = 1.0
    lowered: list[str] = []
    for dampener, bit in _DAMPENER_BITS:
        if not gates & bit:
            continue
        if dampener.name in ("public", "hearsay") and "secrecy" in by_family:
            continue  # "hasn't been announced" is the opposite of news
        if dampener.name == "hearsay" and (particular_case or counsel):
            continue  # "according to our lawyer", "secondo lui (l'avvocato)": advice passed on
        if dampener.name in ("general", "example") and particular_case:
            continue  # a question about our client, or about a named person, is particular
        if dampener.name == "training" and private_matter:
            continue  # "Lauren hasn't completed the training": her file, not a course
        if dampener.name == "template" and particular_case and not _BLANK.search(text):
            continue  # "use this template to reply to our client, who told us ...": a case
        factor *= dampener.factor
        lowered.append(dampener.says)
    if raw * factor >= threshold:
        if _TEMPLATE.says not in lowered and _BLANK.search(text):
            factor *= _TEMPLATE.factor
            lowered.append(_TEMPLATE.says)
        if _GENERAL.says not in lowered and not particular_case \
                and _QUESTION.match(folded.lstrip()):
            factor *= _GENERAL.factor
            lowered.append(_GENERAL.says)
    return ContextAssessment(
        score=round(raw * factor, 3), threshold=threshold, cues=tuple(cues),
        lowered_by=tuple(lowered), category=_category(fired, by_family),
        particular=particular_case)


def _family_weight(family: str, shares: list[float]) -> float:
    """The family's weight times its strongest cue's share, plus half for each further cue,
    up to one and a half times the weight."""
    shares = sorted(shares, reverse=True)
    return WEIGHTS[family] * min(1.5, shares[0] + 0.5 * sum(shares[1:]))


def _particulars(text: str, folded: str, gates: int, has_digits: bool, has_role: bool
                 ) -> list[str]:
    found = []
    if (gates & _HONORIFIC_WORD and _HONORIFIC_NAME.search(text)) \
            or (has_role and _ROLE_NAME.search(text)) \
            or (gates & _DEPARTMENT_WORD and _NAME_FROM_DEPARTMENT.search(text)) \
            or (gates & _GREETING_WORD and _GREETING_NAME.search(text)) \
            or _VOCATIVE.search("\n" + text) \
            or (not text.isascii() and _CJK_NAME.search(text)) \
            or (("\n" in text or ";" in text) and _listed_people(text)):
        found.append("a named person")
    elif _MID_SENTENCE_NAME.search(text) or _POSSESSIVE_NAME.search(text) \
            or (gates & _CAPTION_WORD and _CAPTION.search(text)):
        found.append("a named party")  # a person, a company or a case: anyone particular
    elif gates & (_THIRD_PERSON | _CJK_THIRD_PERSON):
        found.append("a particular person (he, she)")
    if has_digits and _AMOUNT.search(folded):
        found.append("an amount")
    if _HEADER.search(folded):
        found.append("a forwarded message")
    return found


def _legal_view(fired: list) -> bool:
    """Whether a view or recommendation is legal advice: beside a legal risk, or beside counsel
    and another matter ("our lawyer thinks the dismissal won't hold", not "our lawyer thinks we
    should change coffee supplier")."""
    if _LEGAL_RISK in fired:
        return True
    counsel = any(cue.family == "role" and cue.category == "privilege" for cue in fired)
    return counsel and any(cue.family == "matter" and cue is not _VIEW for cue in fired)


def _listed_people(text: str) -> bool:
    entries = _ROSTER.finditer(text)
    return next(entries, None) is not None and next(entries, None) is not None


def _category(fired: list, by_family: dict[str, list[float]]) -> str:
    markers = [cue.category for cue in fired if cue.family == "marker"]
    if markers:
        return markers[0]
    matters = {cue.category for cue in fired if cue.family == "matter"}
    for category in _CATEGORY_ORDER:
        if category in matters:
            return category
    roles = {cue.category for cue in fired if cue.family == "role"}
    if "secrecy" in by_family and ("client_confidence" in roles or "stake" in by_family):
        return "client_confidence"
    for category in _CATEGORY_ORDER:
        if category in roles:
            return category
    return "client_confidence"
