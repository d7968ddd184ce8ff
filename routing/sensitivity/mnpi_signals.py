"""MNPI by co-occurrence: a price-moving internal event together with a sign it is not public.

Phrase lists ("not yet been announced", "merger talks") caught the set they were tuned on and
little of the next one, because people say the same thing in many ways. What stays constant is
the pair: something that moves a share price (results, a deal, a dividend cut, layoffs, a CEO
leaving) and a sign the market has not heard it (a disclosure still to come, an instruction to
keep it quiet, a friend who works there). Either one alone is ordinary business talk.

A false positive only keeps a prompt on the local model, a miss sends inside information to a
cloud provider, so the signals are broad; news that is already out ("announced yesterday") is
let through when nothing says it is secret.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES, by_first_letter

_DAY = (
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|tomorrow|tonight|next\s+\w+|this\s+\w+|"
    r"the\s+(?:\d{1,2}(?:st|nd|rd|th)?|morning|evening|open|close)|\d{1,2}(?:st|nd|rd|th)?\b|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|in\s+(?:~|about\s+)?"
    r"(?:\d+|a|two|three|four|ten)\s+(?:days?|weeks?)"
)
# Signs the news is not out yet: told to keep it quiet, or heard from inside. Term lists, each
# compiled grouped under its first letter (see text.by_first_letter), so the engine turns a
# position away after one comparison instead of trying twenty branches.
_SECRET_TERMS = (
    r"internal(?:\s+use)?\s+only",
    r"do\s+not\s+(?:circulate|share|forward|leak|repeat)",
    r"don't\s+(?:circulate|share|forward|leak|repeat)",
    r"dont\s+(?:circulate|share|forward|leak|repeat)",
    r"keep\s+(?:it|this|that|things|the\s+\w+)\s+(?:quiet|under\s+wraps|between\s+us|"
    r"confidential|tight|secret)",
    r"quiet\s+(?:till|until)", r"wraps\s+(?:till|until)",
    r"confidential", r"vertraulich", r"confidentiel", r"confidencial", r"riservat",
    # Not "terms were not disclosed": news reports say it of deals that are public.
    r"not\s+(?:yet\s+)?(?:public|announced|out\s+yet)", r"not\s+yet\s+disclosed",
    r"till\s+(?:we|they|the\s+company)\s+(?:file|announce|report|publish|release|disclose)",
    r"until\s+(?:we|they|the\s+company)\s+(?:file|announce|report|publish|release|disclose)",
    r"till\s+the\s+(?:8-k|announcement|release|press\s+release|filing)",
    r"until\s+the\s+(?:8-k|announcement|release|press\s+release|filing)",
    r"ad-?hoc",
    # Fourth round: NDAs, embargoes, the market not told yet, in English, German and French.
    r"under\s+(?:an?\s+|the\s+)?nda", r"insider\s*-?\s*list", r"insiderliste",
    r"embargo", r"sperrfrist",
    r"before\s+(?:it['’]s|it\s+is|it\s+goes|we\s+go|this\s+is|this\s+goes)\s+(?:public|out)",
    r"before\s+(?:we|they)\s+(?:announce|tell|file|publish|go\s+public)",
    r"ahead\s+of\s+(?:the\s+|our\s+|its\s+)?(?:announcement|release|press\s+release|filing|"
    r"news|readout|read-out|disclosure|8-k|rns)",
    *(
        rf"{negation}\s+(?:yet\s+)?(?:told|informed|notified)\s+(?:the\s+)?(?:market|street|"
        r"investors|exchange|public|press)"
        for negation in (r"haven['’]t", r"have\s+not", "not", r"hasn['’]t", r"has\s+not")
    ),
    r"noch\s+nicht\s+(?:öffentlich|veröffentlicht|bekannt|kommuniziert|gemeldet)",
    r"vor\s+(?:der\s+)?(?:veröffentlichung|bekanntgabe|ad-hoc)",
    r"pas\s+encore\s+(?:été\s+)?(?:public|annonc|rendu|communiqu|publi)",
    r"avant\s+(?:l['’]annonce|la\s+publication|le\s+communiqué)",
    r"information\s+privilégiée", r"liste\s+d['’]initiés",
    # Fifth round: do-not-disclose stamps in other languages, "nobody knows yet", a filing
    # held back ("the 8-K won't be filed until next week").
    r"n[aã]o\s+divulgar", r"no\s+divulgar", r"non\s+divulgare",
    r"ne\s+pas\s+(?:divulguer|diffuser)", r"nicht\s+(?:weitergeben|veröffentlichen|verbreiten)",
    r"niet\s+(?:openbaar|verspreiden|delen)",
    r"do\s+not\s+disclose", r"not\s+for\s+(?:disclosure|distribution|release)",
    r"sigilos[oa]", r"reservado", r"streng\s+geheim",
    # Sixth round: an approach or offer said to be non-public, news for a small circle, a
    # closed trading window, "don't discuss with anyone".
    r"non-?public\s+(?:approach|offer|bid|deal|process|transaction|negotiations?|talks|"
    r"discussions?)",
    *(
        rf"{who}\s+(?:team\s+)?only"
        for who in ("leadership", r"exec(?:utive)?", "management", "senior", "board")
    ),
    r"trading\s+window\s+(?:is\s+)?(?:closed|closes|shut)",
    r"don['’]?t\s+discuss\s+(?:this\s+|it\s+)?with\s+anyone",
    r"do\s+not\s+discuss\s+(?:this\s+|it\s+)?with\s+anyone",
    *(
        rf"{nobody}\s+(?:else\s+)?(?:outside\s+(?:\w+\s+){{1,3}})?(?:knows|has\s+been\s+told|"
        r"is\s+aware)"
        for nobody in ("nobody", r"no\s+one", "no-one")
    ),
    *(
        rf"{negation}\s+(?:be\s+)?(?:filed|announced|published|released|disclosed|made\s+public|"
        r"public)\s+(?:until|till|before)"
        for negation in (r"won['’]t", r"will\s+not", r"isn['’]t", r"is\s+not", r"not\s+being")
    ),
    # Insider framing: somebody told the writer.
    r"heard\s+(?:informally|privately|through|from\s+(?:a|my|our|someone))",
    r"heads\s+up\s+from",
    r"told\s+(?:me|us)\s+(?:in\s+confidence|privately|off\s+the\s+record)",
)  # fmt: skip
# Somebody at the company: "my brother-in-law at Granite Peak", "a friend who works at ...".
# Only with a word of telling ("says", "told"): "my friend works at a bakery and asks how
# dividends are taxed" is not a tip.
_INSIDER_TERMS = (
    r"works?\s+(?:at|for)\s+[a-z]", r"working\s+(?:at|for)\s+[a-z]",
    *(
        rf"{who}(?:-in-law)?\s+(?:who\s+works\s+)?at\s+[a-z]"
        for who in (
            "friend", "brother", "sister", "cousin", "uncle", "aunt", "relative", "neighbou?r",
            "buddy", "contact", "source",
        )
    ),
)  # fmt: skip
_TELLING_WORDS = GATES.words(
    "says", "said", "told", "tells", "heard", "mentioned", "hinted", "tipped", "up"
)
_DAY = (
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|tomorrow|tonight|next\s+\w+|this\s+\w+|"
    r"the\s+(?:\d{1,2}(?:st|nd|rd|th)?|morning|evening|open|close)|\d{1,2}(?:st|nd|rd|th)?\b|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|in\s+(?:~|about\s+)?"
    r"(?:\d+|a|two|three|four|ten)\s+(?:days?|weeks?)"
)
_DISCLOSE_ON = (
    r"(?:will\s+|'ll\s+|are\s+going\s+to\s+|plan\s+to\s+)?(?:report|announce|release|publish|"
    rf"disclose)\s+(?:it\s+|them\s+)?(?:on\s+|in\s+)?(?:{_DAY})"
)
_WHEN = (
    r"\s+(?:is\s+|goes\s+out\s+|will\s+be\s+|comes\s+out\s+|is\s+published\s+|published\s+|"
    rf"is\s+scheduled\s+|is\s+planned\s+)?(?:for\s+|on\s+)?(?:{_DAY})"
)
# A disclosure still to come: "we report on Aug 6", "announcement is Monday before the open",
# "release goes out the morning of the 12th", "decision is published in two weeks". Weaker
# than the terms above: see find.
_SCHEDULED_TERMS = (
    r"file\s+(?:the\s+|an\s+|our\s+)?8-k", r"filing\s+(?:the\s+|an\s+|our\s+)?8-k",
    r"before\s+the\s+(?:open|bell|market\s+opens)", r"after\s+(?:the\s+)?(?:close|bell)\b",
    rf"we\s+{_DISCLOSE_ON}", rf"they\s+{_DISCLOSE_ON}", rf"it\s+{_DISCLOSE_ON}",
    rf"announcement{_WHEN}", rf"release{_WHEN}", rf"disclosure{_WHEN}", rf"decision{_WHEN}",
    rf"press\s+release{_WHEN}", rf"filing{_WHEN}", rf"8-k{_WHEN}",
    r"will\s+(?:announce|publish|disclose|release|veröffentlich)",
    r"going\s+to\s+(?:announce|publish|disclose|release)",
    r"plan\s+to\s+(?:announce|publish|disclose|release)",
    r"'ll\s+(?:announce|publish|disclose|release)",
    r"werden\s+[^.\n]{0,60}veröffentlichen",
    # Regulatory filings to come: 8-K, 6-K, an RNS, a German ad hoc notice; French futures.
    *(
        rf"{verb}\s+(?:the\s+|an\s+|our\s+|a\s+)?(?:rns|6-k|8-k|ad-?hoc)"
        for verb in ("file", "publish", "issue", r"put\s+out", "release", "send", "draft")
    ),
    rf"rns{_WHEN}", rf"6-k{_WHEN}", r"announcerons", r"publierons",
    # Sixth round: Indian listed companies inform the exchanges after the board meets.
    r"intimation\s+to\s+(?:the\s+)?(?:nse|bse|exchanges?|stock\s+exchanges?)",
    r"board\s+will\s+(?:approve|consider|declare|recommend)",
    r"communiquerons", r"sera\s+(?:annoncée?s?|publiée?s?|communiquée?s?)",
    r"seront\s+(?:annoncée?s?|publiée?s?|communiquée?s?)",
)  # fmt: skip
_SECRET = re.compile(by_first_letter(_SECRET_TERMS))
_INSIDER = re.compile(by_first_letter(_INSIDER_TERMS))
_SCHEDULED = re.compile(by_first_letter(_SCHEDULED_TERMS))
# Results come out on dates published in advance ("Apple will announce its Q4 results on
# October 30"), so a date alone does not make them secret; the writer's own ("we report on
# Aug 6") are, until then.
_ROUTINE_WORDS = GATES.words(
        "earnings", "revenue", "revenues", "eps", "same-store", "comparable", "ebit", "ebitda",
        "profit", "profits", "q1", "q2", "q3", "q4", "fy24", "fy25", "fy26", "fy27", "fy28",
        "umsatz", "ergebnis", "quartalszahlen", "ebitda-marge", "bénéfice", "ventas", "ricavi",
)  # fmt: skip
_FIRST_PERSON = GATES.words("we", "our", "us")  # "we're" splits at the apostrophe
# Events that move a share price when they come out, whenever that is, by their words (see
# text.GATES.words): one bit each, where a pattern of fifty words would be tried at every
# word. "sheet" stands for a term sheet, "stepping" for stepping down. Left out as too common:
# "write" (write-downs are spelt as one word or come with an impairment), "share", "offer",
# "step", "results" (they come with a quarter, a CEO, a deal).
_MATERIAL_WORDS = GATES.words(
        "guidance", "merger", "acquisition", "acquisitions", "acquire", "acquired", "acquires",
        "acquiring", "takeover", "buyout", "sheet", "deal", "deals", "ev", "enterprise",
        "tender", "dividend", "dividends", "buyback", "buybacks", "repurchase", "layoff",
        "layoffs", "restructuring", "restructure", "redundancies", "redundancy", "write-down",
        "write-downs", "writedown", "write-off", "impairment", "gewinnwarnung", "restatement",
        "restate", "restated", "breach", "regulator", "regulators", "regulatory", "fda", "cma",
        "ftc", "antitrust", "drill", "ceo", "cfo", "stepping", "resign", "resigns", "resigning",
        "resigned", "resignation", "bankruptcy", "insolvency", "insolvent",
        # German, French, Spanish and Italian basics.
        "übernahme", "fusion", "fusión", "fusione", "dividende", "dividendo", "stellenabbau",
        "kapitalerhöhung", "abschreibung", "insolvenz", "rücktritt", "rachat", "licenciements",
        "adquisición", "despidos", "acquisizione", "licenziamenti",
        # Fourth round: trial readouts, FDA letters, recalls, enforcement, losing a customer.
        "topline", "top-line", "readout", "read-out", "trial", "endpoint", "endpoints", "crl",
        "recall", "recalls", "subpoena", "wells", "investigation", "probe", "enforcement",
        "fined", "penalty", "sanctions", "churn", "churning",
        # Fifth round: workforce cuts, disposals and listings; Dutch and Portuguese basics.
        "rif", "rifs", "downsizing", "headcount", "divestiture", "divest", "divesting",
        "spin-off", "spinoff", "ipo", "delisting", "overname", "fusie", "nettoverlies",
        "winstwaarschuwing", "reorganisatie", "incorporação", "incorporacao", "fusão", "fusao",
        "aquisição", "aquisicao", "cisão", "venda", "venta", "opa", "reestructuración",
        "despedimento", "despedimentos", "ristrutturazione",
        # Sixth round: deal stages.
        "loi", "exclusivity", "diligence", "indicative",
        "studie", "studiendaten", "rückruf", "prognose", "ermittlungen", "bußgeld", "großkunde",
        "rappel", "essai", "amende", "enquête", "licenciement", "opa", "cession",
)  # fmt: skip
# News already out: "announced yesterday", "reported last week". Let through unless something
# says the matter is still secret.
_ALREADY_OUT = re.compile(
    by_first_letter(
        (
            *(
                rf"{verb}\s+(?:[\w$.,%]+\s+){{0,3}}?(?:yesterday|earlier|last\s+\w+|"
                r"this\s+(?:morning|week)|today|publicly)\b"
                for verb in ("announced", "reported", "released", "published", "disclosed", "said")
            ),
            r"public(?:ly)?\s+(?:coverage|available|filings?|information|sources)\b",
            r"news\s+article", r"headlines?", r"reuters", r"bloomberg", r"wsj",
            r"financial\s+times",
        )
    )
)
_STRONG = re.compile(
    r"internal(?:\s+use)?\s+only|not\s+(?:yet\s+)?(?:public|announced)|"
    r"keep\s+(?:it|this|that)\s+quiet|circulate|confidential|vertraulich|works?\s+(?:at|for)|"
    r"told|heard|heads\s+up"
)


def find(folded: str, found: list[Span], gates: int) -> None:
    """Append mnpi spans to found when an event and a not-public signal share the text.

    gates: text.GATES.present(folded)."""
    if gates & _CJK_SIGNAL:
        _cjk(folded, found)
        if found and found[-1].category == "mnpi":
            return
    material = gates & _MATERIAL_WORDS
    if not material and not gates & _ROUTINE_WORDS:
        return
    # _ALREADY_OUT is read only once a signal is found: most texts stop before it.
    match = _first_word_start(_SECRET, folded)
    if match is None and gates & _TELLING_WORDS:
        match = _first_word_start(_INSIDER, folded)
    if match is not None:
        if _ALREADY_OUT.search(folded) is None or _STRONG.search(folded) is not None:
            found.append(Span(match.start(), match.end(), "mnpi", "event_not_public"))
        return
    if not (material or gates & _FIRST_PERSON):
        return
    match = _first_word_start(_SCHEDULED, folded)
    if match is not None and _ALREADY_OUT.search(folded) is None:
        found.append(Span(match.start(), match.end(), "mnpi", "scheduled_disclosure"))


# Japanese: a price-moving event (an acquisition, a forecast revision, a trial, a recall, a
# dividend) with a sign it is not public yet (未公表, 公表前, インサイダー, 解禁, 重要事実).
_CJK_NOT_PUBLIC = re.compile(
    r"未公表|未発表|非公開|公表前|発表前|開示前|インサイダー|解禁|重要事実|内部情報|社外秘|"
    # Chinese: inside information, no spreading, not yet public, before the announcement.
    r"内幕|严禁外传|不得外传|未公开|尚未公开|公告前|尚未公告|停牌前|"
    r"まだ(?:公表|発表|開示)|(?:公表|発表|開示)(?:される|する)まで|口外(?:しない|禁止|無用)"
)
_CJK_EVENT = re.compile(
    r"買収|合併|統合|TOB|tob|業績|下方修正|上方修正|治験|臨床試験|リコール|配当|自社株買い|"
    r"希望退職|行政処分|決算|提携|承認|減損|社長|辞任|破産|不祥事|売上|"
    r"收购|并购|重组|业绩|分红|增发|股权|合并|停牌|裁员|辞职"
)
_CJK_SIGNAL = GATES.any_of(
    "公", "発表", "開示", "インサイダー", "解禁", "重要事実", "内部情報", "社外秘", "口外",
    "内幕", "外传", "停牌",
)  # fmt: skip


def _cjk(folded: str, found: list[Span]) -> None:
    signal = _CJK_NOT_PUBLIC.search(folded)
    if signal is not None and _CJK_EVENT.search(folded) is not None:
        found.append(Span(signal.start(), signal.end(), "mnpi", "event_not_public"))


def _first_word_start(pattern: re.Pattern[str], folded: str) -> re.Match[str] | None:
    for match in pattern.finditer(folded):
        start = match.start()
        if not (start and folded[start - 1].isalnum()):  # not inside a longer word
            return match
    return None

