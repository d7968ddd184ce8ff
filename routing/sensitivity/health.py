"""Health data: medical identifiers, and clinical facts about an identifiable person.

Medical record, chart, NHS and NPI numbers count on their own. Clinical words (diagnoses,
medication doses, ICD-10 codes) count only when the text also names or identifies somebody:
"what are the side effects of metformin?" is a general question, "Ms. Shaw was prescribed
oxycodone 10 mg" is health information about a person.
"""

from __future__ import annotations

import re

from routing.sensitivity import checksums
from routing.sensitivity.report import Span
from routing.sensitivity.text import GATES, by_first_letter

_RECORD_NUMBER = re.compile(
    r"\b(?:mrn|medical\s+record\s+(?:number|no\.?|#)|med\.?\s+rec(?:ord)?\.?\s*(?:no\.?|#)|"
    r"chart\s*(?:number|no\.?|#)|patient\s+id|hospital\s+(?:number|no\.?))"
    r"\s*[:#]?\s*(?P<value>[a-z0-9][a-z0-9\-]{3,14})(?![\w\-])"
)
_NPI = re.compile(r"\bnpi\b[^\n\d]{0,25}(?P<value>\d{10})(?!\d)")
_NHS = re.compile(
    r"\bnhs\s*(?:number|no\.?|#)?[^\n\d]{0,12}(?P<value>\d{3}[ \-]?\d{3}[ \-]?\d{4})(?![\d])"
)
# Medicare Beneficiary Identifier after its label: 11 characters, digit-letter-alnum-digit,
# letter-alnum-digit, letter-letter-digit-digit, printed with or without dashes; letters S, L,
# O, I, B and Z are never used. Any identifier after "Medicare"/"Medicaid" counts.
_MBI_LETTER = "ac-hjkmnp-rt-y"  # searched in the folded text
_MEDICARE = re.compile(
    r"\b(?:medicare|medicaid|mbi)\b(?:\s+(?:beneficiary\s+)?(?:id|identifier|number|no\.?|#|"
    r"card|claim\s+number))?[^\n\w]{0,12}(?:for\s+(?:the\s+|this\s+)?\w+\s+)?(?:is\s+)?"
    rf"(?P<value>[1-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9]-?[{_MBI_LETTER}][{_MBI_LETTER}0-9]"
    rf"[0-9]-?[{_MBI_LETTER}]{{2}}[0-9]{{2}})(?![\w\-])"
)
# Insurance identifiers are health data only next to clinical content (a gym also has members).
_INSURANCE_ID = re.compile(
    r"\b(?:member\s+id|insurance\s+id|subscriber\s+id|policy\s+(?:number|no\.?))"
    r"\s*[:#]?\s*(?P<value>[a-z0-9][a-z0-9\-]{5,19})(?![\w\-])"
)

# Not "vision" and "policy" in the word gate below: computer vision and retry policies are
# far more common in prompts than vision plans; "policy number" still counts after "insurance".
# Health-insurance and patient numbers by their label, in several countries: German
# Versichertennummer, Spanish NHC (número de historia clínica), Ontario health card, dental plan
# IDs. They name a health system, so they count without clinical words; the generic member,
# subscriber and insurance IDs (a gym also has members) need an insurer or a clinical word.
_HEALTH_ID_LABEL = re.compile(
    r"\b(?:(?:kranken)?versicherten-?nummer|krankenkassen-?nummer|nhc|"
    r"n[uú]mero\s+de\s+historia(?:\s+cl[ií]nica)?|health\s+(?:card|insurance)(?:\s+(?:number|"
    r"no\.?|#|id))?|(?:dental|medical|vision)\s+(?:plan\s+)?(?:id|number)|tarjeta\s+sanitaria|"
    r"carte\s+vitale|ohip(?:\s+number)?|ehic|zorgverzekering\w*|n[º°]\s+de\s+s[ée]cu\w*|"
    r"(?P<generic>member\s+id|subscriber\s+id|insurance\s+id|policy\s+(?:number|no\.?)))\b"
)
_HEALTH_ID_WORDS = GATES.words(
        "versichertennummer", "krankenversichertennummer", "versicherten-nummer",
        "krankenkassennummer", "krankenkassen-nummer", "nhc", "historia", "health", "dental",
        "medical", "sanitaria", "vitale", "ohip", "ehic", "zorgverzekering",
        "zorgverzekeringsnummer", "member", "subscriber", "insurance", "nº", "n°",
)  # fmt: skip
# Read from the original text after the label: a word or two ("is", "es:"), then groups of
# digits and capitals ("4728-391-659-KT", "1038 2274 9915"); a lower-case word ends it.
_HEALTH_ID_VALUE = re.compile(
    r"[^\n\w]{0,4}(?:(?:is|es|est|ist|lautet|nr\.?|no\.?|number)\s*:?\s+)?"
    r"(?P<value>[A-Z0-9]*\d[A-Z0-9]*(?:[ \-][0-9A-Z]{2,}){0,4})(?![\w\-])"
)
_INSURER = re.compile(
    r"\b(?:aetna|cigna|humana|anthem|blue\s+(?:cross|shield)|bcbs|united\s?healthcare|kaiser|"
    r"delta\s+dental|bupa|medicaid|medicare|tricare|molina|centene|aok|barmer|dak|"
    r"mutuelle|sanitas|adeslas|claim|copay|deductible|prior\s+auth\w*|pharmacy)\b"
)
# An HL7 v2 patient-identification segment: a name, birth date and address in one line.
_HL7_PID = re.compile(r"(?:^|[\r\n])PID\|")
_TEN_DIGITS = re.compile(r"\d(?<![\w]\d)\d{2}[ \-]?\d{3}[ \-]?\d{4}(?!\w)")

_CLINICAL_TERMS = (
    r"diagnos[ei]s", r"diagnosed", r"dx", r"prescribed", r"prescription", r"medications?",
    r"\d+\s?mg", r"presents?\s+with", r"presenting\s+with", r"history\s+of", r"hx\s+of",
    r"chief\s+complaint", r"admitted", r"discharged?", r"discharge\s+summary", r"biopsy",
    r"carcinoma", r"cancer", r"tumou?r", r"oncology", r"chemotherapy", r"radiotherapy", r"hiv",
    r"hepatitis", r"pregnan\w*", r"gestational", r"psychiatr\w*", r"psychotherapy", r"therapy",
    r"progress\s+note", r"depressi\w*", r"bipolar", r"schizophreni\w*", r"ptsd", r"anxiety",
    r"diabet\w*", r"hypertension", r"asthma", r"copd", r"ckd", r"dementia", r"allerg\w*",
    r"epipen", r"insulin", r"lab\s+results", r"hba1c", r"a1c", r"blood\s+pressure",
    r"viral\s+load", r"treated\s+(?:for|with)", r"surgery", r"fracture[ds]?", r"post-?op",
    r"triage", r"referral", r"prior\s+authori[sz]ation", r"care\s+plan", r"pneumonia",
    r"arthritis", r"sclerosis", r"overdose", r"substance\s+use", r"rehab\w*",
    # Mental health, addiction and other disclosures people make about someone they know.
    r"relapsed?", r"self-?harm\w*", r"suicid\w*", r"mental\s+health", r"eating\s+disorder",
    r"anorexia", r"bulimia", r"addiction", r"alcoholism", r"miscarriage", r"abortion", r"ivf",
    r"dialysis", r"transplant", r"stroke", r"seizures?", r"epilep\w*", r"autism", r"adhd",
    r"medical\s+records?", r"sick\s+(?:leave|note)", r"signed\s+off\s+(?:sick|with)",
    r"work-related\s+stress", r"symptoms", r"inpatient", r"outpatient", r"icu",
    r"physiotherapy", r"counsell?ing\s+sessions?", r"disabilit(?:y|ies)",
    # Procedures, tests and ward words a clinician writes.
    r"mri", r"ct\s+scan", r"x-?rays?", r"ultrasound", r"cabg", r"stent\w*", r"pod\s?\d",
    r"ward", r"bed\s+\d+", r"medically\s+necessary", r"oncologist", r"cardiolog\w*",
    r"stage\s+[1-4iv]+", r"heart\s+failure", r"chronic\s+\w+", r"infection", r"hospitali[sz]ed",
    r"crown", r"root\s+canal", r"extraction",
    # The basics in German, French, Spanish, Italian, Dutch and Portuguese.
    r"diagnos\w*", r"krebs", r"krankheit", r"befund", r"therapie",
    r"maladie", r"traitement", r"hospitalis\w*", r"enfermedad", r"insuficiencia",
    r"tratamiento", r"ingres[oa]", r"c[áa]ncer", r"malattia", r"terapia", r"ziekte",
    r"behandeling", r"doença", r"tratamento",
    # Fifth round: emergency visits and treatment in English; strokes, heart attacks,
    # operations, biopsies, pregnancy, sick leave and common diagnoses in the same languages.
    r"er\s+visit", r"emergency\s+room", r"urgent\s+care", r"a&e",
    *(
        rf"{before}\s+treatment"
        for before in ("on", "under", "in", "receiving", "undergoing", "cancer", "medical")
    ),
    r"positive\s+for",
    # Sixth round.
    r"chemo", r"panic\s+attacks?", r"panic\s+disorder", r"ocd", r"insomnia", r"phobia",
    r"burn-?out", r"signed\s+off", r"fit\s+note", r"sick\s+note", r"hospital\s+admission",
    r"hiv\s+positive", r"diagn[oó]stic\w*", r"avc", r"acv", r"ictus", r"afasia", r"aphasie",
    r"infarto", r"infarctus", r"herzinfarkt", r"cardiaque", r"card[ií]ac[oa]", r"décompensation",
    r"insuffisance", r"cirug[ií]a", r"cirurgia", r"chirurgie", r"intervento", r"operaci[oó]n",
    r"biops[iy]\w*", r"quimioterapia", r"chimioth[ée]rapie", r"chemotherapie",
    r"d[ée]pression", r"depresi[oó]n", r"tdah", r"adhs", r"alzheimer", r"parkinson",
    r"d[ée]mence", r"demencia", r"epilepsia", r"épilepsie", r"ansiedad", r"anxiété",
    r"embarazo", r"embarazada", r"grossesse", r"enceinte", r"schwanger\w*", r"gravidez",
    r"gr[aá]vida", r"gravidanza", r"incinta", r"ricover\w*", r"internad[oa]",
    r"krankgeschrieben", r"arbeitsunfähig\w*", r"baja\s+m[ée]dica", r"arr[êe]t\s+maladie",
    r"tumeur", r"tumore", r"operatie", r"zwanger\w*", r"kanker",
)  # fmt: skip
# About sixty terms, tried at every word start: grouped by first letter (see by_first_letter).
_CLINICAL = re.compile(rf"\b(?:{by_first_letter(_CLINICAL_TERMS)})\b")
# Drug names by their stems (loop diuretics, ACE inhibitors, statins, beta blockers, ...) and
# German compound diagnoses ("Mammakarzinom"): word endings, so a pattern of their own that
# starts with the ending's letters, the word before it checked afterwards. A term starting
# with \w in _CLINICAL would be tried at every word.
_ENDINGS = (
    "semide", "pril", "sartan", "statin", "olol", "dipine", "formin", "gliptin", "azepam",
    "zolam", "oxetine", "triptyline", "prazole", "mycin", "cillin", "floxacin", "cycline",
    "tinib", "parin", "xaban", "codone", "karzinom",
    # Fifth round: tumours, operations and inflammations by their endings, ADHD stimulants.
    "carcinoma", "sarcoma", "lymphoma", "melanoma", "myeloma", "glioma", "blastoma", "ectomy",
    "ectomie", "ectomia", "ectomía", "otomy", "ostomy", "itis", "phenidate", "fenidato",
)  # fmt: skip
_CLINICAL_ENDING = re.compile(rf"(?:{'|'.join(_ENDINGS)})(?:e?s)?\b")
# The pattern above can start at almost any letter, so it runs only when an ending is there.
_ENDING = GATES.any_of(*_ENDINGS)
# ICD-10-CM shape; U codes are reserved for emergency use and rarely seen in notes.
# Starts with a class, see text.py.
_ICD10 = re.compile(r"[A-TV-Z](?<![\w.\-][A-TV-Z])\d[0-9AB](?:\.[0-9A-Z]{1,4})?(?![\w]|\.\w)")

# Roles that put a person's name right after them: "patient John Abernathy", "one of our
# members, Nadia Flores".
_ROLES = (
    "patient|patientin|paciente|patiente|patiënt|paziente|pt|client|claimant|plaintiff|member|"
    "subscriber|employee|resident|name|nombre|nom|naam"
)
# A relation after "my" or "our" identifies somebody to whoever reads the prompt, with or
# without a name: "my mom, Carol Jennings", "our son Noah", "my husband". (The possessive is the
# cheap pre-check: two substring tests, where the relation words are a few dozen.)
_RELATIONS = (
    "colleague", "co-?worker", "student", "tenant", "friend", "son", "daughter", "wife",
    "husband", "brother", "sister", "mother", "father", "mom", "mum", "mommy", "mummy", "dad",
    "daddy", "parent", "grand(?:ma|pa|mother|father|son|daughter|parent|child)", "aunt",
    "uncle", "nephew", "niece", "cousin", "partner", "boyfriend", "girlfriend", "fianc[ée]e?",
    "kid", "child", "children", "baby", "toddler", "stepson", "stepdaughter", "spouse",
    "patient", "client", "employee", "resident",
)  # fmt: skip
# Grouped under their first letter (text.by_first_letter): tried after every "my " and "our ".
_RELATION = re.compile(rf"\s*(?:{by_first_letter(_RELATIONS)})s?\b")
# Somebody identifiable: an honorific, or a role label, followed by a capitalised name. The
# honorific pattern starts with its literal "M" so the engine can skip to candidates.
# A bare "M." is the French Monsieur ("M. Jean-Pierre Dubois").
_HONORIFIC_NAME = re.compile(r"M(?<![\w]M)(?:(?:rs?|s|iss|x|me|lle)\.?|\.)\s+[A-ZÀ-Ý][\w'’\-]+")
# The same in other languages and for doctors, less common, so behind their own test.
# Starts with its letters (no \b), so the engine skips to D, F, H, S or M; the character
# before is checked in _has_other_honorific.
_OTHER_HONORIFIC = re.compile(
    r"(?:Dr|Frau|Herr|Sr|Sra|Srta|Sig|Sig\.ra|Dhr|Mevr|Mevrouw|Meneer)\.?\s+[A-ZÀ-Ý][\w'’\-]+"
)
# Somebody confided it: "X told me in confidence he's being treated for ...". Whoever it is,
# the writer knows them, and so would the reader of the prompt.
_OTHER_HONORIFIC_WORDS = GATES.words(
        "dr", "frau", "herr", "sr", "sra", "srta", "sig", "dhr", "mevr", "mevrouw", "meneer",
)  # fmt: skip
_CONFIDED_WORDS = GATES.words("confidence", "confided", "privately")
_CONFIDED = GATES.any_of("in confidence", "confided", "told me privately")
# A role label followed by a capitalised name: "patient John Abernathy", "Client: Elena Petrova".
_LABELLED_NAME = re.compile(
    rf"\b(?i:{_ROLES})s?\b\.?[:,]?\s+"
    r"(?:[A-ZÀ-Ý][a-zà-ÿ'’\-]+|[A-ZÀ-Ý]\.?)\s+[A-ZÀ-Ý][\w'’\-]+"
)
# The same, faster for ASCII text: the label is searched in the folded copy, where its pattern
# can start with a literal (see text.py), and the name after it read from the original. Only
# ASCII: (?i) above also takes "İ" and "ı" for i and "ſ" for s, which lower-casing does not give.
_LABEL = re.compile(rf"(?:{by_first_letter(tuple(_ROLES.split('|')))})s?\b")
# A first name or an initial ("client: J. Whitaker"), then a surname.
_NAME_AFTER_LABEL = re.compile(
    r"\.?[:,]?\s+(?:[A-ZÀ-Ý][a-zà-ÿ'’\-]+|[A-ZÀ-Ý]\.?)\s+[A-ZÀ-Ý][\w'’\-]+"
)
# Whole words (text.GATES.words): one bit for two dozen words.
_LABEL_WORDS = GATES.words(
        "patient", "patients", "patientin", "paciente", "patiente", "patiënt", "paziente", "pt",
        "client", "clients", "claimant", "plaintiff", "member", "members", "subscriber",
        "employee", "employees", "resident", "residents", "name", "nombre", "nom", "naam",
)  # fmt: skip

_RECORD_NUMBER_WORD = GATES.any_of(
    "mrn", "medical record", "med rec", "med. rec", "chart", "patient id", "hospital",
)  # fmt: skip
_MEDICARE_WORD = GATES.any_of("medic", "mbi")  # medicare, medicaid
# A clinical word as the subject of a talk or a text is a topic, not somebody's condition:
# "thanks Dr. Patel for her lecture on heart failure".
_TOPICS = (
    "lecture", "talk", "course", "seminar", "webinar", "presentation", "class", "training",
    "workshop", "conference", "paper", "article", "book", "chapter", "module", "research",
    "thesis", "podcast",
)  # fmt: skip
_TOPIC_BEFORE = re.compile(
    rf"\b(?:{'|'.join(_TOPICS)})s?\s+(?:on|about)\s+(?:the\s+)?(?:\w+\s+){{0,2}}$"
)
_TOPIC_WORD = GATES.any_of(
    *(f"{topic} on" for topic in _TOPICS),
    *(f"{topic} about" for topic in _TOPICS),
    *(f"{topic}s on" for topic in _TOPICS),
    *(f"{topic}s about" for topic in _TOPICS),
)

# Fifth round: relatives named in Spanish, Italian, Portuguese, French, German and Dutch ("mi
# hija Lucía", "mio padre", "o meu marido", "ma mère", "meine Frau", "mijn vader").
_FOREIGN_POSSESSIVES = GATES.words(
        "mi", "mis", "mio", "mia", "miei", "mie", "meu", "minha", "meus", "minhas", "mon",
        "ma", "mes", "mein", "meine", "meinem", "meiner", "meinen", "mijn", "nuestro",
        "nuestra", "nostro", "nostra", "nosso", "nossa", "notre", "unser", "unsere",
        "unserem", "unserer", "onze",
)  # fmt: skip
_FOREIGN_RELATION = re.compile(
    r"\b(?:mi|mis|mio|mia|miei|mie|meu|minha|meus|minhas|mon|ma|mes|mein|meine|meinem|meiner|"
    r"meinen|mijn|nuestr[oa]s?|nostr[oa]|noss[oa]s?|notre|unser(?:e|em|er|en)?|onze)\s+"
    r"(?:hij[oa]s?|madre|padre|espos[oa]|marido|mujer|herman[oa]s?|abuel[oa]|novi[oa]|pareja|"
    r"t[ií][oa]|prim[oa]|compañer[oa]|jefe|jefa|figli[oa]|moglie|fratello|sorella|nonn[oa]|"
    r"compagn[oa]|collega|zi[oa]|pai|mãe|mae|filh[oa]s?|irmã|irmão|av[oóô]|namorad[oa]|"
    r"p[èe]re|m[èe]re|fils|fille|mari|femme|[ée]poux|[ée]pouse|fr[èe]re|s(?:œ|oe)ur|"
    r"grand-p[èe]re|grand-m[èe]re|coll[èe]gue|conjoint|vater|mutter|sohn|tochter|mann|frau|"
    r"ehemann|ehefrau|bruder|schwester|opa|oma|kollegin|kollege|partnerin|partner|vader|moeder|"
    r"zoon|dochter|man|vrouw|broer|zus|collega|marito|mamma|mam[aá]|pap[aàá]|maman|bambin[oa]|"
    r"enfant|b[ée]b[ée]|kind|baby|echtgeno(?:ot|te))\b"
)
# Japanese and Chinese: a person (a name with さん, 様 or 氏; a subordinate, colleague or
# relative) together with a diagnosis, an illness, a hospital stay, an operation or sick leave.
_CJK_PERSON = GATES.any_of(
    "さん", "様", "氏", "部下", "同僚", "上司", "父", "母", "夫", "妻", "息子", "娘", "我的",
    "同事", "患者",
)  # fmt: skip
_CJK_CLINICAL_WORD = GATES.any_of(
    "診断", "病", "症", "入院", "手術", "治療", "休職", "がん", "癌", "诊断", "住院", "手术",
    "治疗", "障害",
)  # fmt: skip
_CJK_CLINICAL = re.compile(
    r"[^\s、。，]{0,8}?(?:診断|病|症|入院|手術|治療|休職|がん|癌|诊断|住院|手术|治疗|障害)"
)
# Somebody at work, by name, in what HR writes about health: "a reasonable adjustments letter
# for Tom Radcliffe", "Gareth Pryce (warehouse team leader) has been signed off", "Priya from
# data eng will be out ... doing chemo". The workplace words make the name a colleague's.
_WORKPLACE_HEALTH_WORD = GATES.any_of(
    "reasonable adjustment", "occupational health", "oh referral", "fit note", "signed off",
    "sick leave", "sick note", "return to work", "return-to-work", "fmla", "ada accommodation",
    "leave of absence", "capability process", "absence", "his manager", "her manager",
    "their manager", "will be out", "off sick", "medical leave", "disability",
)  # fmt: skip
_WORKPLACE_NAME = re.compile(
    r"[A-ZÀ-Ý][a-zà-ÿ'’\-]+(?:\s+[A-ZÀ-Ý][a-zà-ÿ'’\-]+)?"
    r"(?=\s+(?:in|from|on|at)\s+(?:the\s+)?[A-Za-z]+|\s*\((?:[\w \-]+)\)|\s+has\s+been|"
    r"\s+will\s+be|[’']s\s+(?:manager|team|line\s+manager))"
    r"|(?:for|to|about)\s+[A-ZÀ-Ý][a-zà-ÿ'’\-]+\s+[A-ZÀ-Ý][a-zà-ÿ'’\-]+"
)
# A message from somebody about their own diagnosis, pasted to answer it: "Hi Sam, ... I was
# diagnosed HIV positive in January ... – Luis". The greeting names who it is between.
_DIAGNOSIS_WORD = GATES.any_of("diagnos")
_FIRST_PERSON_DIAGNOSIS = re.compile(
    r"\bi(?:['’]ve|\s+have|['’]m|\s+am|\s+was|\s+got|\s+had)?\s+(?:just\s+|recently\s+|"
    r"finally\s+|officially\s+)?(?:been\s+)?diagnosed\b|\bmy\s+diagnosis\b"
)
_GREETING_WITH_NAME = re.compile(r"(?:^|[\n\"“'])\s*(?:Hi|Hello|Hey|Dear)\s+[A-Z][a-z]+")
# A table with a column of names: "emp_id | name | dept | reason".
_NAME_COLUMN_WORDS = GATES.words("name", "patient", "employee", "surname", "fullname")
_NAME_HEADER = re.compile(
    r"^[^\n]*?(?:^|[|\t,;])\s*(?:full[_ ]?|first[_ ]?|last[_ ]?|employee[_ ]?|patient[_ ]?)?"
    r"(?:name|surname|patient|employee)\s*(?:[|\t,;]|$)",
    re.MULTILINE,
)


def find(
    text: str,
    folded: str,
    found: list[Span],
    *,
    has_digits: bool,
    identifies_person: bool,
    gates: int,
) -> None:
    """Append health spans to found; identifies_person: other detectors found personal data;
    gates: text.GATES.present(folded)."""
    spans_before = len(found)
    if has_digits:
        _identifiers(text, folded, found, gates)
    has_identifier = len(found) > spans_before
    if gates & _CJK_PERSON and gates & _CJK_CLINICAL_WORD:
        _cjk(folded, found)
    if not (
        identifies_person
        or has_identifier
        or ("M" in text and _HONORIFIC_NAME.search(text))
        or _has_other_honorific(text, gates)
        or (gates & _LABEL_WORDS and _has_labelled_name(text, folded))
        or (("my " in folded or "our " in folded) and _has_relation(folded))
        or (gates & _CONFIDED_WORDS and gates & _CONFIDED)
        or (gates & _FOREIGN_POSSESSIVES and _FOREIGN_RELATION.search(folded))
        or (gates & _DIAGNOSIS_WORD and _is_own_diagnosis_in_a_message(text, folded))
        or (gates & _WORKPLACE_HEALTH_WORD and _has_workplace_name(text))
        or (gates & _NAME_COLUMN_WORDS and _has_name_column(text, folded))
    ):
        return
    clinical = [
        Span(match.start(), match.end(), "health", "clinical_context")
        for match in _CLINICAL.finditer(folded)
        if not (
            gates & _TOPIC_WORD
            and _TOPIC_BEFORE.search(folded, max(0, match.start() - 40), match.start())
        )
    ]
    if not clinical and gates & _ENDING:
        clinical = [
            Span(match.start(), match.end(), "health", "clinical_context")
            for match in _CLINICAL_ENDING.finditer(folded)
            if match.start() >= 3 and folded[match.start() - 3 : match.start()].isalpha()
        ]
    if not clinical:
        return
    found += clinical
    if not has_digits:
        return
    for match in _ICD10.finditer(text):
        found.append(Span(match.start(), match.end(), "health", "icd10"))
    for match in _INSURANCE_ID.finditer(folded):
        if sum(ch.isdigit() for ch in match.group("value")) >= 4:
            found.append(Span(match.start("value"), match.end("value"), "health", "insurance_id"))


def _cjk(folded: str, found: list[Span]) -> None:
    for match in _CJK_CLINICAL.finditer(folded):
        found.append(Span(match.start(), match.end(), "health", "clinical_context"))


def _has_workplace_name(text: str) -> bool:
    for match in _WORKPLACE_NAME.finditer(text):
        start = match.start()
        if start and text[start - 1].isalnum():
            continue
        name = match.group().split()[-1] if match.group()[:1].islower() else match.group()
        if name.split()[0] not in _NOT_NAMES:
            return True
    return False


# Capitalised words that start sentences and headings, not names.
_NOT_NAMES = frozenset(
    (
        "The", "This", "That", "He", "She", "They", "We", "I", "It", "Our", "My", "His",
        "Her", "Their", "Please", "Draft", "Write", "Dear", "Hi", "Hello", "Thanks", "FYI",
        "Subject", "Re", "Keep", "Make", "Can", "Could", "Would", "Help", "Team", "All",
        "Staff", "Employee", "Manager", "HR", "OH",
    )
)  # fmt: skip


def _is_own_diagnosis_in_a_message(text: str, folded: str) -> bool:
    return bool(_FIRST_PERSON_DIAGNOSIS.search(folded) and _GREETING_WITH_NAME.search(text))


def _has_name_column(text: str, folded: str) -> bool:
    """A header row (a line with a bar, tab, comma or semicolon) naming a column of names."""
    if not ("|" in text or "\t" in text or "," in text or ";" in text):
        return False
    return _NAME_HEADER.search(folded) is not None


def _has_other_honorific(text: str, gates: int) -> bool:
    if not gates & _OTHER_HONORIFIC_WORDS:
        return False
    for match in _OTHER_HONORIFIC.finditer(text):
        if not (match.start() and text[match.start() - 1].isalnum()):
            return True
    return False


def _has_labelled_name(text: str, folded: str) -> bool:
    if not text.isascii():
        return _LABELLED_NAME.search(text) is not None
    for label in _LABEL.finditer(folded):
        start = label.start()
        if start and (folded[start - 1].isalnum() or folded[start - 1] == "_"):
            continue  # inside a longer word: "outpatient", "surname"
        if _NAME_AFTER_LABEL.match(text, label.end()):
            return True
    return False


def _has_relation(folded: str) -> bool:
    # From each "my " / "our " found by str.find: a search for (my|our) would stop at every m
    # and o in the text.
    for possessive in ("my ", "our "):
        at = folded.find(possessive)
        while at >= 0:
            relation = None
            if not (at and folded[at - 1].isalnum()):  # not "army ", "tour "
                relation = _RELATION.match(folded, at + len(possessive))
            if relation:
                return True
            at = folded.find(possessive, at + 1)
    return False


def _identifiers(
    text: str, folded: str, found: list[Span], gates: int
) -> None:
    if gates & _RECORD_NUMBER_WORD:
        for match in _RECORD_NUMBER.finditer(folded):
            if sum(ch.isdigit() for ch in match.group("value")) >= 4:
                found.append(
                    Span(match.start("value"), match.end("value"), "health", "medical_record")
                )
    if gates & _MEDICARE_WORD:
        for match in _MEDICARE.finditer(folded):
            found.append(Span(match.start("value"), match.end("value"), "health", "medicare_id"))
    if "npi" in folded:
        for match in _NPI.finditer(folded):
            if checksums.npi_valid(match.group("value")):
                found.append(Span(match.start("value"), match.end("value"), "health", "npi"))
    if "nhs" in folded:
        before = len(found)
        for match in _NHS.finditer(folded):
            digits = re.sub(r"\D", "", match.group("value"))
            if checksums.nhs_number_valid(digits):
                found.append(Span(match.start("value"), match.end("value"), "health", "nhs_number"))
        if len(found) == before and ("|" in folded or "\t" in folded):
            _nhs_column(folded, found)
    if "PID|" in text:
        for match in _HL7_PID.finditer(text):
            found.append(Span(match.end() - 4, match.end(), "health", "hl7_patient"))
    if gates & _HEALTH_ID_WORDS:
        _health_ids(text, folded, found)


def _nhs_column(folded: str, found: list[Span]) -> None:
    """A table with an NHS column puts the label far from the numbers under it."""
    for match in _TEN_DIGITS.finditer(folded):
        digits = match.group().replace(" ", "").replace("-", "")
        if checksums.nhs_number_valid(digits):
            found.append(Span(match.start(), match.end(), "health", "nhs_number"))


def _health_ids(text: str, folded: str, found: list[Span]) -> None:
    for label in _HEALTH_ID_LABEL.finditer(folded):
        value = _HEALTH_ID_VALUE.match(text, label.end())
        if value is None or sum(ch.isdigit() for ch in value.group("value")) < 4:
            continue
        if label.group("generic") and not (_INSURER.search(folded) or _CLINICAL.search(folded)):
            continue
        start, end = value.span("value")
        found.append(Span(start, end, "health", "health_insurance_id"))

