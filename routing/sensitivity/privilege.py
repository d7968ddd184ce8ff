"""Privilege, work-product and confidentiality legends.

Legends are stamped on documents, so two kinds of evidence count:
- upper-case legends ("PRIVILEGED & CONFIDENTIAL") always count: nobody types a question in
  capitals, but every pasted header or footer is;
- the same phrases in ordinary case count unless the sentence is a general question about them
  ("what does 'attorneys' eyes only' mean?"), see text.is_discussion.
A bare mention of a concept ("attorney-client privilege", "NDA", "confidential") is not a legend.
"""

from __future__ import annotations

import re

from routing.sensitivity.report import Span
from routing.sensitivity.text import (
    GATES,
    by_first_letter,
    is_discussion,
    is_invented,
    sentence_around,
)

_DASH = r"[-–—]"

_MARKED_AS = (
    r"\s+(?:it\s+|this\s+|them\s+)?(?:as\s+)?[\"'“‘]?(?:privileged|(?:highly\s+|strictly\s+)?"
    r"confidential|attorneys['’]?\s+eyes|aeo\b|without\s+prejudice|work[-\s]product)"
)
_EYES_ONLY = r"['’]?s?\s+(?:eyes\s+)?only\b"
_SHARED_PRIVILEGE = r"\s+(?:privileged?|communications?|materials?|confidential)\b"
_EVIDENCE_RULE = r"\s*(?:502|408|410)\b"
_UNDER_SEAL = r"\s+under\s+seal\b"
# One pass over the case-folded text. The terms are grouped under their first letter
# (text.by_first_letter): Python's engine tries an alternation's branches one by one at every
# candidate, so forty branches in a row cost forty comparisons per word. Within a letter the
# order is kept (the longer legend first: "confidential settlement communication" before
# "confidential"). The word boundary before a match is checked in find.
_LEGEND_TERMS = (
    r"privileged\s*(?:&|and)\s*confidential\b",
    rf"attorney\s*{_DASH}?\s*client\s+(?:privileged?|communication)\b",
    r"attorney\s+work[-\s]+product\b",
    r"attorneys['’]?\s+eyes\s+only\b",
    r"privileged\s+communication\b",
    r"prepared\s+(?:at\s+the\s+(?:direction|request|instruction)\s+of|by|for)\s+(?:\w+\s+)?"
    r"(?:counsel|attorneys?|lawyers?|solicitors?|legal\s+department)\b",
    # Fourth round: more stamps and the privilege named after the document.
    r"privileged\s+(?:and\s+confidential\s+)?(?:memo(?:randum)?|e-?mail|documents?|draft|"
    r"legal\s+advice|advice|materials?|information|correspondence|letter|notes?|analysis)\b",
    *(
        rf"{verb}{_MARKED_AS}"
        for verb in ("marked", "stamped", r"labell?ed", "designated", "flagged")
    ),
    r"strictly\s+private\s*(?:&|and)\s*confidential\b",
    r"private\s*(?:&|and)\s*confidential\b",
    *(
        rf"{who}{_EYES_ONLY}"
        for who in (r"outside\s+counsel", "counsel", r"lawyers?", r"attorneys?")
    ),
    r"confidential\s+(?:settlement|mediation)\s+(?:communications?|negotiations?|discussions?|"
    r"proposals?|offers?|materials?)\b",
    rf"joint\s+defen[cs]e{_SHARED_PRIVILEGE}",
    rf"common\s*{_DASH}?\s*interest{_SHARED_PRIVILEGE}",
    rf"protected\s+by\s+(?:the\s+)?(?:attorney\s*{_DASH}?\s*client|legal)\s+privilege\b",
    r"in\s+anticipation\s+of\s+litigation\b",
    r"subject\s+to\s+(?:an?\s+|the\s+)?(?:nda|non-disclosure\s+agreement)\b",
    r"under\s+(?:an?\s+|the\s+)?nda\b",
    rf"confidential\s*{_DASH}?\s*do\s+not\s+(?:forward|distribute|copy)\b",
    r"confidential\b",
    r"for\s+settlement\s+purposes\s+only\b",
    r"this\s+(?:e-?mail|message|communication|memo(?:randum)?|document|letter|report)"
    r"(?:\s+and\s+any\s+attachments?)?\s+(?:is|are|may\s+be|contains?|may\s+contain)\s+"
    r"(?:strictly\s+|highly\s+)?(?:confidential|privileged)\b",
    r"work[-\s]+product\b",
    r"without\s+prejudice\b",
    r"strictly\s+privileged\b",
    r"legally\s+privileged\b",
    r"do\s+not\s+(?:forward|distribute)\b",
    # Short and bracketed stamps: "Priv & Conf", "[PRIVILEGED - ATTORNEY/CLIENT]",
    # "Privileged: legal advice".
    r"priv\.?\s*(?:&|and)\s*conf\w*",
    rf"privileged\s*[{_DASH[1:-1]}/:,(\[]?\s*(?:attorney|client|legal|counsel|solicitor|lawyer)",
    # Confidentiality footers, which name no privilege but mark the mail as one.
    r"intended\s+(?:only|solely|exclusively)\s+for\s+(?:the\s+)?(?:use\s+of\s+the\s+)?"
    r"(?:named\s+)?(?:addressee|recipient|individual|person|entity)",
    r"addressees?\s+only\b",
    r"recipients?\s+only\b",
    # US evidence rules that stamp settlement and clawback material, protective orders, seals.
    rf"fre{_EVIDENCE_RULE}",
    rf"federal\s+rules?\s+of\s+evidence{_EVIDENCE_RULE}",
    rf"evidence\s+rule{_EVIDENCE_RULE}",
    rf"rule{_EVIDENCE_RULE}",
    r"cal(?:ifornia)?\.?\s+evid(?:ence|\.)?\s+code\s*(?:§\s*)?(?:1119|1152|1154)\b",
    r"evid(?:ence|\.)?\s+code\s*(?:§\s*)?(?:1119|1152|1154)\b",
    r"subject\s+to\s+(?:an?\s+|the\s+)?(?:stipulated\s+|agreed\s+)?(?:protective|"
    r"confidentiality)\s+order\b",
    *(rf"{verb}{_UNDER_SEAL}" for verb in ("filed", "lodged", "submitted", "produced")),
    r"subject\s+to\s+contract\b",
    r"ac\s*/\s*wp\b",
    r"a\s*/\s*c\s+priv\w*",
    r"aeo\b",
    r"legal\s+(?:advice|professional)\s+privileged?\b",
    r"litigation\s+privileged?\b",
    r"may\s+contain\s+(?:confidential|privileged|legally\s+privileged|proprietary)\b",
    r"if\s+you\s+(?:have\s+)?received\s+this\s+(?:\w+\s+){0,2}in\s+error\b",
)
_LEGENDS = re.compile(by_first_letter(_LEGEND_TERMS))
# The usual legends in French, German, Spanish and Italian documents; searched only when one of
# _FOREIGN_NEEDLES is there, so English texts never pay for them.
_FOREIGN_LEGENDS = re.compile(
    r"(?:couvert|prot[ée]g[ée])e?s?\s+par\s+le\s+secret\s+professionnel\b"
    r"|secret\s+professionnel\s+de\s+l['’]avocat\b"
    r"|confidentiel\s+(?:et|&)\s+privil[ée]gi[ée]\b"
    r"|correspondance\s+(?:confidentielle\s+)?entre\s+avocats\b"
    r"|anwalts(?:geheimnis|privileg)\w*"
    r"|anwaltliche[nrs]?\s+(?:schweigepflicht|berufsgeheimnis|korrespondenz|vertraulichkeit)\b"
    r"|vertraulich\s*(?:und|&)\s*(?:privilegiert|anwaltlich)\w*"
    r"|secreto\s+profesional\s+(?:del\s+)?abogad[oa]\b"
    r"|confidencial\s*(?:y|&)\s*privilegiad[oa]\b"
    r"|privilegio\s+(?:abogado\s*-?\s*cliente|legal)\b"
    r"|segreto\s+professionale\s+(?:dell['’]\s*)?avvocato\b"
    r"|riservat[oa]\s*(?:e|&)\s*(?:confidenziale|privilegiat[oa])\b"
    # Dutch and Portuguese: the lawyer's privilege (verschoningsrecht, sigilo profissional).
    r"|verschoningsrecht\w*"
    r"|geheimhoudingsplicht\s+(?:van\s+de\s+)?advoca\w*"
    r"|vertrouwelijk\s*(?:en|&)\s*(?:geprivilegieerd|privileged)\w*"
    r"|(?:sigilo|segredo)\s+profissional\b"
    # Fourth round. Professional secrecy named on its own ("Confidentiel – Secret professionnel",
    # "coperto da segreto professionale", "secreto profesional"), German duties of secrecy.
    r"|secret\s+professionnel\b|secreto\s+profesional\b|segreto\s+professionale\b"
    r"|(?:verschwiegenheitspflicht|berufsgeheimnis|mandatsgeheimnis|mandantengeheimnis)\w*"
    r"|sous\s+toutes\s+r[ée]serves\b"
    # "Strictly confidential" and a confidentiality word set off as a stamp, in each language.
    r"|(?:streng|strictement|strettamente|estrictamente|estritamente|strikt|hoogst)\s+"
    r"(?:vertraulich|confidentiel|riservat|confidencial|vertrouwelijk|geheim)\w*"
    r"|(?:vertraulich|confidentiel(?:le)?|confidencial|riservat[oa]|vertrouwelijk|confidenziale"
    # Sixth round: Polish, Swedish, Danish, Norwegian, Finnish and Czech stamps.
    r"|poufne|ściśle\s+poufne|konfidentiellt|fortroligt|konfidensielt|luottamuksellinen"
    r"|důvěrné)[ \t]*[-–—:|]"
    # The lawyer's secrecy in those languages: tajemnica adwokacka / radcowska,
    # advokatsekretess, advokatens tavshedspligt, advokatens taushetsplikt, advokátní mlčenlivost.
    r"|tajemnic[aąy]\s+(?:adwokack|radcowsk|zawodow)\w*"
    r"|advokatsekretess\w*|advokat(?:ens|ers)?\s+tavshedspligt|advokat(?:ens)?\s+taushetsplikt"
    r"|advokátní\s+mlčenlivost\w*|asianajajan\s+vaitiolovelvollisuu\w*"
    # E-mail footers: addressed only to the recipient, received in error, the message is
    # confidential.
    r"|nur\s+für\s+den\s+(?:\w+\s+)?(?:empfänger|adressaten)\s+bestimmt"
    r"|nicht\s+der\s+(?:richtige|beabsichtigte|vorgesehene)\s+(?:adressat|empfänger)"
    r"|irrtümlich\s+erhalten|vertrauliche\s+(?:und/oder\s+|und\s+)?(?:rechtlich\s+)?"
    r"geschützte"
    r"|destinée?s?\s+(?:exclusivement|uniquement|seulement)\s+(?:à|au|aux)\b"
    r"|reçu\s+(?:ce|cet|cette)\s+(?:\w+\s+){0,2}?par\s+erreur"
    r"|(?:ce|le\s+présent)\s+(?:message|courriel|e-?mail|document)\s+(?:\S+\s+){0,4}?"
    r"(?:est|sont)\s+(?:strictement\s+)?confidentiel"
    r"|dirigid[oa]s?\s+(?:exclusivamente|únicamente|solamente)\b"
    r"|destinad[oa]s?\s+(?:exclusivamente|únicamente|apenas)\b"
    r"|destinat[oa]r?i?\s+(?:esclusivamente|unicamente)\b"
    r"|(?:recibido|recebeu|recebido|ricevuto)\s+(?:este|esta|questo|questa)\s+(?:\w+\s+){0,2}?"
    r"(?:por|per)\s+(?:error|engano|errore)"
    r"|(?:este|el\s+presente|questo|il\s+presente)\s+(?:mensaje|correo|messaggio|documento|"
    r"e-?mail)\s+(?:\S+\s+){0,4}?(?:es|son|è|sono)\s+(?:estrictamente\s+|strettamente\s+)?"
    r"(?:confidencial|riservat|confidenzial)"
    r"|uitsluitend\s+bestemd\s+voor|per\s+abuis\s+ontvangen|ten\s+onrechte\s+ontvangen"
    r"|(?:dit|deze)\s+(?:e-?mail|bericht|document)\s+(?:\S+\s+){0,4}?is\s+(?:strikt\s+)?vertrouwelijk"
    # Marked privileged or confidential, said in German, French, Spanish, Italian, Portuguese.
    r"|als\s+(?:streng\s+)?(?:vertraulich|privilegiert)\s+(?:markiert|gekennzeichnet|eingestuft)"
    r"|marqué(?:e|s|es)?\s+(?:comme\s+)?[«\"]?\s*(?:confidentiel|privilégié|secret)"
    r"|marcad[oa]s?\s+como\s+(?:confidencial|privilegiad)"
    r"|contrassegnat[oaie]\s+come\s+(?:riservat|confidenzial)"
    r"|ohne\s+präjudiz\b"
    r"|confidencial\s*(?:e|&)\s*privilegiad[oa]\b"
)
# Words an English prompt rarely has, so English texts (with "secret", "privilege", or an em
# dash that makes them non-ASCII) do not reach the pattern, which has no literal to start from.
# "vocat" takes avocat and avvocato; "privilegi" privilegiado, privilegiert, privilegiato.
_FOREIGN_WORD = GATES.any_of(
    "vocat", "anwalt", "abogad", "secret pro", "privilégi", "privilegi", "riservat",
    # Sixth round: Polish, Nordic and Czech.
    "poufne", "tajemnic", "konfidentiellt", "fortroligt", "konfidensielt", "luottamuksellinen",
    "důvěrné", "advokat", "asianajaja",
)  # fmt: skip
# Dutch and Portuguese legends by their words (see text.GATES.words): one bit.
_MORE_FOREIGN_WORDS = GATES.words(
        "verschoningsrecht", "geheimhoudingsplicht", "vertrouwelijk", "advocaat", "advogado",
        "sigilo", "segredo",
        # Fourth round.
        "verschwiegenheitspflicht", "berufsgeheimnis", "mandatsgeheimnis", "streng",
        "vertraulich", "vertrauliche", "empfänger", "adressat", "irrtümlich", "confidentiel",
        "confidentielle", "confidentiels", "confidentielles", "réserves", "reserves",
        "professionnel", "destiné", "destinée", "destinés", "destinées", "erreur", "confidencial",
        "confidenciales", "profesional", "dirigido", "dirigida", "destinado", "destinada",
        "recibido", "recebeu", "recebido", "ricevuto", "reçu", "professionale", "riservato",
        "riservata", "confidenziale",
        "strettamente", "esclusivamente", "bestemd", "abuis", "onrechte", "strikt", "hoogst",
        "profissional", "markiert", "gekennzeichnet", "eingestuft", "marqué", "marquée",
        "marqués", "marquées", "marcado", "marcada", "contrassegnato", "contrassegnata",
        "präjudiz",
)  # fmt: skip
# Confidentiality footers ("intended only for the addressee", "received this in error"; "may
# contain confidential ..." has a word of _NEEDLES) and the short stamp "Priv & Conf": words,
# not substrings, since "priv" is in every "private". Not "error": every coding prompt has it.
_FOOTER_WORDS = GATES.words("intended", "received", "priv")
# Fourth round: stamps whose words are in no needle (AEO, AC/WP, FRE 502/408, protective orders,
# seals, "subject to contract", joint-defence and common-interest material, "addressee only").
_STAMP_WORDS = GATES.words(
        "aeo", "wp", "fre", "408", "502", "410", "1119", "1152", "1154", "protective", "seal",
        "defense", "defence", "common-interest", "addressee", "addressees", "recipient",
        "prepared",
)  # fmt: skip
# What protects the document, in US, UK and Commonwealth terms, read backwards from the word
# "privilege" (a literal, where the engine is fastest): "Subject to Legal Advice Privilege",
# "covered by solicitor-client privilege", "solicitor-client privileged".
_COVERED_BY = re.compile(
    r"(?:subject\s+to|protected\s+by|covered\s+by)\s+(?:the\s+)?(?:legal\s+advice\s+|"
    rf"legal\s+professional\s+|litigation\s+|(?:solicitor|attorney|lawyer)\s*{_DASH}?\s*client\s+|"
    r"legal\s+|)$"  # and bare: "our GC says this is covered by privilege"
)
_SOLICITOR_CLIENT = re.compile(rf"solicitor\s*{_DASH}?\s*client\s+$")
_COVERED_REACH = 60
# "without prejudice" in any case, unless followed by "to" (the court's "without prejudice to a
# later claim"); see _is_without_prejudice.
_WP_TO = re.compile(r"\s+to\b")
# Ordinary words in lower case ("work product", "do not forward",
# "attorney-client privilege" without the d): they are a legend only when stamped in capitals.
_STAMP_ONLY = re.compile(
    rf"work[-\s]+product|(?:strictly|legally)\s+privileged"
    rf"|do\s+not\s+(?:forward|distribute)|confidential|attorney\s*{_DASH}?\s*client\s+privilege"
    r"|(?:legal\s+advice|litigation|legal\s+professional)\s+privilege"
)
# A legend in Title Case ("Legally Privileged", "Without Prejudice") or in ordinary case right
# before a dash or colon ("Subject: Without prejudice – proposal") is a heading, not prose.
_HEADING_AFTER = re.compile(r"[ \t]*[-–—:|]")
# A lone CONFIDENTIAL is a stamp only where stamps go: first on its line, or set off by a
# dash, colon or bar ("CONFIDENTIAL — DO NOT FORWARD"); not "add a CONFIDENTIAL watermark".
_LINE_LEAD = re.compile(r"(?:^|\n)[ \t>*#]*(?:(?:strictly|highly)\s+)?$")
_SET_OFF = re.compile(r"\s*[-–—:|/]")
# Every legend above contains one of these; texts without any skip the regex pass.
_LEGEND_WORD = GATES.any_of(
    "privilege", "confidential", "counsel", "work product", "work-product", "eyes only",
    "litigation", " nda",
    "non-disclosure", "prejudice", "settlement purposes", "do not forward", "do not distribute",
)  # fmt: skip
_PRIVILEGE = GATES.any_of("privilege")
_PRIVILEGED = GATES.any_of("privileged")
_SUBJECT_TO_CONTRACT = GATES.any_of("subject to contract")
_COMMON_INTEREST = GATES.any_of("common interest")


def find(text: str, folded: str, found: list[Span], gates: int) -> None:
    """Append privilege spans to found; gates:
    text.GATES.present(folded)."""
    if gates & _FOREIGN_WORD or gates & _MORE_FOREIGN_WORDS:
        _foreign(folded, found)
    if gates & _CJK_WORD:
        _cjk(folded, found)
    if (
        not gates & (_LEGEND_WORD | _SUBJECT_TO_CONTRACT | _COMMON_INTEREST)
        and not gates & _FOOTER_WORDS
        and not gates & _STAMP_WORDS
    ):
        return
    if gates & _PRIVILEGED:
        _said_privileged(folded, found)
    if gates & _PRIVILEGE:
        _covered_by(folded, found)
    if "PRIVILEGED" in text:
        _capital_stamps(text, folded, found)
    for match in _LEGENDS.finditer(folded):
        start, end = match.span()
        if start and folded[start - 1].isalnum():
            continue  # "unprivileged ...": not the word we are looking for
        if _is_legend(text, folded, start, end):
            found.append(Span(start, end, "privilege", "legend"))


_RULE_NAMES = ("fre", "rule", "evid", "cal", "federal")


def _is_legend(text: str, folded: str, start: int, end: int) -> bool:
    # "FRE 502" is written in capitals in questions too: not a stamp by its case.
    stamped = text[start:end].isupper() and not folded.startswith(_RULE_NAMES, start)
    if folded.startswith("confidential", start) and end - start == len("confidential"):
        line_lead = _LINE_LEAD.search(folded, max(0, start - 40), start)
        return stamped and (line_lead is not None or _SET_OFF.match(folded, end) is not None)
    if stamped:
        return not is_invented(folded, start, end)  # a stamp, even inside a question
    if folded.startswith("aeo", start):
        return False  # "aeo" in lower case is not the stamp
    if folded.startswith("without", start):
        return _is_without_prejudice(folded, start, end)
    if _STAMP_ONLY.fullmatch(folded, start, end):
        return _is_heading(text, start, end) and not is_discussion(folded, start, end)
    return not is_discussion(folded, start, end)


def _is_without_prejudice(folded: str, start: int, end: int) -> bool:
    """A letter's "without prejudice" in any case, but not the court's "dismissed without
    prejudice (to a later claim)", which is procedure, nor a question about the concept."""
    if _WP_TO.match(folded, end) or "dismiss" in folded[max(0, start - 40) : start]:
        return False
    return not is_discussion(folded, start, end)


def _is_heading(text: str, start: int, end: int) -> bool:
    """Whether an ordinary-case legend stands as a heading: every word capitalised, or set off by
    a dash, colon or bar; "marking a letter 'without prejudice'" in prose is neither."""
    words = text[start:end].split()
    if all(word[:1].isupper() for word in words):
        return True
    return _HEADING_AFTER.match(text, end) is not None


# "this memo is privileged", "our lawyers marked it privileged, don't forward": a document
# said to be privileged. Read backwards from "privileged" on a short window.
_SAID_BEFORE = re.compile(
    r"(?:\b(?:is|are|was|were|be|been|remains?|stays?|considered|treated\s+as|deemed)|['’]s)\s+"
    r"(?:(?:all|also|still|both|strictly|legally|fully|highly|probably|likely|definitely)\s+)?$"
)
_SAID_REACH = 40
# "we are privileged to ...", "a privileged few", and the IT sense ("the account is privileged").
_NOT_LEGAL_AFTER = re.compile(
    r"\s+(?:to|enough|few|position|background|access|account|user|mode)\b"
)
_IT_SENSE = re.compile(
    r"\b(?:access|accounts?|users?|root|admin\w*|sudo|containers?|process(?:es)?|ports?|kernel|"
    r"mode|roles?|permissions?|instructions?|docker|pods?|ring)\b"
)


def _said_privileged(folded: str, found: list[Span]) -> None:
    at = folded.find("privileged")
    while at >= 0:
        end = at + len("privileged")
        if (
            _SAID_BEFORE.search(folded, max(0, at - _SAID_REACH), at) is not None
            and _NOT_LEGAL_AFTER.match(folded, end) is None
            and not is_discussion(folded, at, end)
        ):
            begin, stop, _ = sentence_around(folded, at, end)
            if _IT_SENSE.search(folded, begin, stop) is None:
                found.append(Span(at, end, "privilege", "said_privileged"))
        at = folded.find("privileged", end)


def _capital_stamps(text: str, folded: str, found: list[Span]) -> None:
    """PRIVILEGED in capitals, as a word, is a stamp ("[NTD – PRIVILEGED/INTERNAL – ...]"):
    nobody writes it so in a sentence about the concept."""
    at = text.find("PRIVILEGED")
    while at >= 0:
        end = at + len("PRIVILEGED")
        whole_word = not (at and text[at - 1].isalpha()) and not text[end : end + 1].isalpha()
        if whole_word and not is_discussion(folded, at, end):
            begin, stop, _ = sentence_around(folded, at, end)
            if _IT_SENSE.search(folded, begin, stop) is None:  # docker run --privileged
                found.append(Span(at, end, "privilege", "legend"))
        at = text.find("PRIVILEGED", end)


def _covered_by(folded: str, found: list[Span]) -> None:
    at = folded.find("privilege")
    while at >= 0:
        end = at + len("privilege")
        window = max(0, at - _COVERED_REACH)
        before = folded[window:at]
        # An anchored search tries every start in the window: look for its words first.
        lead = None
        if "subject to" in before or " by " in before:
            lead = _COVERED_BY.search(folded, window, at)
        if lead is None and "solicitor" in before and folded.startswith(("d", " comm"), end):
            lead = _SOLICITOR_CLIENT.search(folded, window, at)
            end += 1 if folded.startswith("d", end) else len(" communication")
        if lead is not None and not is_discussion(folded, lead.start(), end):
            found.append(Span(lead.start(), end, "privilege", "legend"))
        at = folded.find("privilege", end)


# Japanese (and Chinese) stamps and footers: privilege (秘匿特権), "confidential outside the
# company" (社外秘, 部外秘), "top secret" (極秘), "handle with care" (取扱注意); 機密 alone is an
# ordinary word ("機密情報とは"), so it counts only in brackets as a stamp, or said of this mail.
_CJK_LEGENDS = re.compile(
    r"秘匿特権|社外秘|部外秘|関係者外秘|極秘|取扱注意|取り扱い注意|厳秘"
    r"|[【\[〔（(「『]\s*(?:機密|秘密|秘|confidential)\s*[】\]〕）)」』]"
    r"|(?:本|この)(?:メール|電子メール|文書|資料|書面|通信)[^。\n]{0,20}(?:機密|秘密|秘匿)"
    r"|誤って[^。\n]{0,12}受信|誤送信"
    r"|律师[-—–・]?(?:客户|委托人)?[-—–・]?(?:特权|保密特权)|法律专业特权|保密特权"
    # Korean: confidential outside the company (대외비), lawyer-client privilege (비밀유지특권).
    r"|대외비|비밀유지\s?특권|변호사[-・\s]?의뢰인"
)
_CJK_WORD = GATES.any_of("秘", "機密", "注意", "受信", "特权", "대외비", "특권", "의뢰인")


def _cjk(folded: str, found: list[Span]) -> None:
    for match in _CJK_LEGENDS.finditer(folded):
        found.append(Span(match.start(), match.end(), "privilege", "legend"))


def _foreign(folded: str, found: list[Span]) -> None:
    for match in _FOREIGN_LEGENDS.finditer(folded):
        if not is_discussion(folded, match.start(), match.end()):
            found.append(Span(match.start(), match.end(), "privilege", "legend"))

