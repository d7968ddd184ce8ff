"""The contextual layer's cues: what a text says about its situation, grouped in families.

A cue is a short stem or phrase that marks one facet of a situation in one of the languages
the gate claims (en, de, fr, es, it, nl, pt, pl, ja, zh); several stems in several languages
make one cue, and the explanation names the cue, not the stem. The families answer separate
questions, so that only a text that answers several of them adds up to "sensitive":

    role      who is involved: a client, counsel, the board, an employee, a patient
    matter    what it is about: advice, a dispute, a dismissal, a diagnosis, a deal
    secrecy   how it was shared: told us, in confidence, between us, not announced yet
    stake     whose it is: our client, my employee, our company (the writer is a party)
    marker    what professionals stamp on such text: under NDA, not for distribution
    particular what makes it one case: a named person, an amount (found in context.py by pattern)

Needles are matched as text.SubstringGates matches them: on the case-folded text with every
separator made a space, so " client" is "client" at the start of a word (clients, client's)
and "between us " is the whole phrase. CJK needles have no spaces (those scripts have none).
A matter cue carries the category a finding is filed under.
"""

from __future__ import annotations

from typing import NamedTuple


class Cue(NamedTuple):
    family: str
    label: str  # what the explanation says: "a client", "a settlement"
    category: str | None  # for matter and marker cues: the category the finding belongs to
    needles: tuple[str, ...]
    weight: float = 1.0  # a share of the family's weight: a weaker cue counts for less


def _apostrophes(needles: tuple[str, ...]) -> tuple[str, ...]:
    """Each needle as typed, with the typographic apostrophe (don't, don’t) and, for English
    contractions, without one, as chat is typed (dont, doesnt)."""
    return tuple(dict.fromkeys(
        n for needle in needles
        for n in (needle, needle.replace("'", "’"),
                  needle.replace("n't", "nt") if "n't" in needle else needle)))


def _cue(family: str, label: str, category: str | None, *needles: str, weight: float = 1.0
         ) -> Cue:
    return Cue(family, label, category, _apostrophes(needles), weight)


# Document markers: stamps a professional puts on text that must not travel. Counted alone.
MARKERS = (
    _cue("marker", "a privilege stamp", "privilege",
         "privileged & confidential", "privileged and confidential", "attorney work product",
         "attorney-client privileged", "legally privileged", "vertraulich und privilegiert",
         "confidentiel et privilégié", "confidencial y privilegiado", "tajemnica adwokacka",
         "tajemnica radcowska", "秘匿特権", "弁護士・依頼者間", "律师-客户特权", "律师客户特权",
         "保密特权"),
    _cue("marker", "a do-not-distribute stamp", "client_confidence",
         "not for distribution", "do not distribute", "do not forward", "not for circulation",
         "do not circulate", "for internal use only", "internal use only", "internal only",
         "strictly confidential", "confidential draft", "eyes only",
         "nicht zur weitergabe", "nicht weitergeben", "nur für den internen gebrauch",
         "streng vertraulich", "ne pas diffuser", "ne pas transmettre", "diffusion restreinte",
         "usage interne", "strictement confidentiel", "no distribuir", "no difundir",
         "uso interno", "estrictamente confidencial", "non divulgare", "non diffondere",
         "strettamente riservato", "niet verspreiden", "niet doorsturen", "intern gebruik",
         "strikt vertrouwelijk", "não divulgar", "não distribuir", "estritamente confidencial",
         "nie rozpowszechniać", "nie przekazywać", "do użytku wewnętrznego", "ściśle poufne",
         "社外秘", "部外秘", "極秘", "取扱注意", "社内限り", "配布禁止", "转发禁止", "禁止转发",
         "严禁外传", "请勿外传", "仅限内部", "内部资料", "绝密"),
    _cue("marker", "a non-disclosure agreement", "client_confidence",
         " under nda", " under an nda", "subject to nda", "subject to the nda",
         "covered by the nda",
         "covered by nda", " unter nda", " sous nda", " bajo nda", " sotto nda", " onder nda",
         " sob nda", " objęte nda", "保密协议", "秘密保持契約", " nda ", "non-disclosure"),
    _cue("marker", "an embargo", "mnpi",
         "embargoed until", "under embargo", "embargo until", "not for release", "sperrfrist",
         "sous embargo",
         "bajo embargo", "sotto embargo", "onder embargo", "sob embargo", "pod embargiem",
         "解禁", "禁发"),
)

SECRECY = (
    _cue("secrecy", "told in confidence", None,
         " in confidence", " confided", " confidentially", " in strict confidence",
         "im vertrauen", "anvertraut", "en confidence", " confié", " en confianza", " confió",
         " in confidenza", " confidato", " in vertrouwen", " em confiança", " confidenciou",
         " w zaufaniu", "内密", "打ち明け", "私下", "透露"),
    _cue("secrecy", "an admission made to us", None,
         " reconnaît", " reconnu avoir", " avoue", " zwierzy", " zwierzył", " anvertraut",
         " admitted", " conceded", " confessed", " acknowledged privately", " in private",
         " privately", " zugegeben", " gestanden", " eingeräumt", " a avoué", " a admis",
         " en privé", " reconoce", " reconoció", " admitió", " confesó", " en privado",
         " ammesso", " ha confessato", " in privato", " toegegeven", " bekende",
         " admitiu", " confessou", " em privado", " przyznał", " przyznała", " wyznał",
         " prywatnie", "認めた", "白状", "承认", "坦白"),
    _cue("secrecy", "kept between us", None,
         "keep that quiet", "keep that to yourself", "stays with us", "stay with us",
         "stays between", "stay between", "stays in the room", "for your eyes only",
         "noch niemandem", "niemandem erzählen", "niemandem sagen", "bleibt unter uns",
         "ne le répète", "reste entre nous", "que quede entre", "resti tra noi",
         "blijft tussen ons", "fica entre nós", "zostaje między nami",
         "between us", "between you and me", "off the record", "don't share", "do not share",
         "don't mention", "do not mention", "keep it out of", "keep this out of",
         "asked us to keep", "asked me to keep", "asked us not", "asked me not",
         "don't tell", "do not tell", "not to be shared", "keep this quiet", "keep it quiet",
         "keep this to yourself", "keep it to yourself", "keep this between", "under wraps",
         "asked us not to", "asked me not to", "nobody else knows", "no one else knows",
         # Leaving it out of what goes on: "draft the note without mentioning what legal said".
         "let that slip", "let it slip", "let this slip", " without mentioning",
         " without telling", " without saying what", " sans mentionner", " sans lui dire",
         " ohne zu erwähnen", " ohne ihm zu sagen", " ohne ihr zu sagen", " sin mencionar",
         " sin decirle", " senza menzionare", " senza dirgli", " senza dirle",
         " zonder te vermelden", " zonder te zeggen", " sem mencionar", " sem dizer",
         " bez wspominania", "言わずに", "不要提到",
         "unter uns", "nicht weitersagen", "behalte das für dich", "entre nous", "ne le dis",
         "garde ça pour", "entre nosotros", "no lo compartas", "no se lo digas", "tra noi",
         "tra di noi", "non dirlo", "onder ons", "niet delen", "vertel het niet", "entre nós",
         "não compartilhe", "não partilhe", "não conte", "między nami", "nie mów nikomu",
         "nie udostępniaj", "ここだけの話", "オフレコ", "他言無用", "口外", "内緒",
         "只在我们之间", "别告诉", "不要告诉", "不要外传", "不要分享", "别外传", "勿外传",
         " ébruiter", "ne rien dire", "nichts sagen", "nichts erzählen", "no decir nada",
         "non dire niente", "niets zeggen", "não dizer nada", "nic nie mówić"),
    _cue("secrecy", "told us", None,
         " told us", " told me", " admitted to us", " admitted to me", " disclosed to us",
         " wrote to us", " wrote us", " explained to us", " nous a écrit", " nous a expliqué",
         " hat uns geschrieben", " hat uns erklärt", " nos escribió", " nos ha escrito",
         " nos explicó", " nos ha explicado", " ci ha scritto", " ci ha spiegato",
         " schreef ons", " heeft ons geschreven", " legde ons uit", " nos escreveu",
         " nos explicou", " napisał nam", " napisała nam", " wyjaśnił nam",
         " let us know that", " informed us", " hat uns erzählt", " hat mir erzählt",
         " hat uns gesagt", " hat mir gesagt", " hat uns mitgeteilt", " nous a dit", " m'a dit",
         " nous a avoué", " nous a révélé", " nos contó", " me contó", " nos dijo", " me dijo",
         " ci ha detto", " mi ha detto", " ci ha rivelato", " heeft ons verteld",
         " heeft me verteld", " vertelde ons", " vertelde me", " nos contou", " me contou",
         " nos disse", " me disse", " powiedział nam", " powiedziała nam", " powiedział mi",
         " powiedziała mi", " wyznał", " wyznała", "から聞いた", "と打ち明け", "告诉我们",
         "告诉我", "对我们说"),
    _cue("secrecy", "not public yet", None,
         "comunicado ao mercado", "fato relevante", "só sai", "only goes out", "until exchange",
         "until signing", "until closing", "until the deal closes", "erst veröffentlicht",
         "communiqué au marché", "hecho relevante", "comunicato al mercato",
         "not yet public", "not public yet", "hasn't announced", "haven't announced",
         "nothing's out yet", "nothing is out yet", "isn't out yet", "not out yet",
         "not announced", "haven't disclosed", "before we disclose", "haven't told anyone",
         "hasn't told anyone", "before we go public", "not until", "no one knows yet",
         "not been announced", "hasn't been announced", "won't say so until",
         "won't announce", "will be announced", "announcement is planned",
         "announcement is scheduled", "isn't aware yet", "not yet aware", "isn't aware",
         "not aware yet", "still doesn't know", "before signing", "before it's signed",
         "wird bekanntgegeben", "noch nicht informiert", "sera annoncé",
         "pas encore au courant", "n'est pas au courant", "se anunciará", "no lo sabe",
         "annuncio è previsto", "sarà annunciat", "non è ancora al corrente", "non lo sa",
         "wordt aangekondigd", "weet nog niet", "será anunciad", "zostanie ogłoszon",
         "nie wie jeszcze",
         "not yet announced", "not announced yet", "before the announcement",
         "before we announce", "before it's announced", "before it is announced",
         "before it goes public", "hasn't been told", "haven't told", "hasn't told",
         "doesn't know yet", "don't know yet", "aren't aware yet", "isn't aware yet",
         "not yet been told", "before it's public", "not yet disclosed",
         "noch nicht öffentlich", "noch nicht bekannt", "noch nicht angekündigt",
         "vor der bekanntgabe", "vor der ankündigung", "weiß noch nichts", "wissen noch nichts",
         "pas encore public", "pas encore annoncé", "avant l'annonce", "ne sait pas encore",
         "ne savent pas encore", "todavía no es público", "aún no es público",
         "aún no se ha anunciado", "antes del anuncio", "todavía no lo sabe", "aún no lo sabe",
         "non ancora pubblic", "non ancora annunciat", "prima dell'annuncio", "non lo sa ancora",
         "nog niet openbaar", "nog niet bekend", "nog niet aangekondigd",
         "voor de aankondiging", "weet het nog niet", "ainda não é público",
         "ainda não foi anunciado", "antes do anúncio", "ainda não sabe",
         "jeszcze nie ogłoszon", "jeszcze niepubliczn", "przed ogłoszeniem", "jeszcze nie wie",
         "未公表", "公表前", "発表前", "まだ公表", "まだ知らない", "未公开", "尚未公布",
         "公告前", "发布前", "还不知道"),
    _cue("secrecy", "to be handled discreetly", None,
         " discreet", " discretion", " oversharing", " sensitively", " diskret", " discrète",
         " discret ", " discreto", " discreta", " discrezione", " discreet", " dyskretn",
         " quietly", " stillschweigend", " en silence", " sin hacer ruido", " in silenzio",
         " stilletjes", " em silêncio", " po cichu",
         "内々", "低调", weight=0.6),
    _cue("secrecy", "confidential", None,
         " confidential", " vertraulich", " confidentiel", " confidencial", " riservat",
         " vertrouwelijk", " poufn", "機密", "秘密", "保密",
         # Handbooks and surveys call things confidential too: a weaker cue than "told us".
         weight=0.6),
)

ROLES = (
    _cue("role", "a client", "client_confidence",
         # Somebody who asked us for advice is a client, whatever the text calls them.
         " asked us whether", " asked us if", " vous nous avez demandé", " nous a demandé si",
         " hat uns gefragt", " haben uns gefragt", " nos preguntó si", " nos ha preguntado",
         " ci ha chiesto se", " ci avete chiesto", " heeft ons gevraagd", " nos perguntou",
         " zapytał nas", " zapytała nas",
         " client", " mandant", " mandat", " intake", " engagement letter", " klient", " cliënt",
         " cliente", "依頼者", "依頼人",
         "クライアント", "委托人", "客户"),
    _cue("role", "counsel", "privilege",
         " counsel", " attorney", " lawyer", " solicitor", " barrister", " anwalt", " anwält",
         " rechtsanwält", " avocat", " abogad", " avvocat", " advocaat", " advogad",
         " adwokat", " radca prawn", " prawnik", " prawniczk", " jurist", " juriste",
         " avv ", " law firm", " kanzlei", " cabinet d'avocats", " despacho", " bufete",
         " studio legale", " advocatenkantoor", " escritório de advocacia", " kancelari",
         "弁護士", "律师",
         # In-house: the general counsel and the legal department, as colleagues name them.
         # Advisers whose view on the firm's exposure is as confidential: accountants, tax.
         " accountant", " tax adviser", " tax advisor", " steuerberater", " expert-comptable",
         " asesor fiscal", " commercialista", " belastingadviseur", " doradca podatkow",
         "税理士", "会计师",
         " gc ", "general counsel", " legal team", " legal dept", " legal department",
         " legal said", " legal says", " legal looked", " legal thinks", " legal advised",
         " legal flagged", " legal reviewed", " rechtsabteilung", " service juridique",
         " direction juridique", " asesoría jurídica", " departamento jurídico",
         " ufficio legale", " juridische afdeling", " juridisch", " dział prawny", "法務",
         "法务"),
    _cue("role", "the other side", "litigation",
         "opposing counsel", "opposing party", "other side", " plaintiff", " defendant",
         " claimant", " witness", " gegenseite", " kläger", " beklagte", " zeuge", " zeugin",
         "partie adverse", " demandeur", " témoin", " contraparte", " demandante",
         " demandado", " testigo", " controparte", " testimone", " wederpartij", " eiser",
         " getuige", " autor da ação", " testemunha", " strona przeciwna", " powód",
         " pozwan", " świadek", "相手方", "原告", "被告", "証人", "对方", "证人"),
    _cue("role", "the board", "mnpi",
         " o conselho", " il consiglio", " el consejo", " le conseil d", " investment committee",
         " ic memo",
         " board", " directors", " ceo", " cfo", " shareholder", " investor", " vorstand",
         " aufsichtsrat", " geschäftsführ", "conseil d'administration", " direction générale",
         " consejo de administración", " junta directiva", "consiglio di amministrazione",
         " raad van bestuur", " directie", " conselho de administração", " diretoria",
         " zarząd", " rada nadzorcza", "取締役会", "役員会", "経営陣", "董事会", "管理层",
         "股东"),
    _cue("role", "an employee", "hr",
         " employee", " staff member", " colleague", " direct report", " contractor",
         " candidate", "-employee", " former employee", " new hire", " intern ", " interns ",
         " trainee", " apprentice", " line manager", " supervisor", " personnel file",
         " human resources", " hr ", " personalabteilung", " ressources humaines",
         " recursos humanos", " risorse umane", " personeelszaken", " kadr", " vorgesetzt",
         " leidinggevende", " przełożon", "人事", "上司", "主管",
         " mitarbeiter", " kolleg", " angestellte", " salarié", " employé",
         " collègue", " collaborat", " empleado", " trabajador", " compañer", " dipendente",
         " collega", " werknemer", " medewerker", " funcionári", " colaborador", " colega",
         " pracownik", " pracownic", " współpracowni", "社員", "従業員", "部下", "同僚",
         "员工", "职员", "同事", "下属"),
    _cue("role", "a patient", "health",
         " patient", " paciente", " paziente", " patiënt", " pacjent", "患者", "病人"),
)

MATTERS = (
    _cue("matter", "legal advice", "privilege",
         " advice", " advise", " legal opinion", " our assessment", " our view", " exposure",
         " liability", " strateg", " defence", " defense", " our position", " rechtsberatung",
         " verteidigung", " défense", " defensa", " difesa", " verdediging", " defesa",
         " obron", " strategi", " rechtliche einschätzung",
         " einschätzung", " haftung", " avis juridique", " conseil juridique", " stratégie",
         " responsabilité", " asesoramiento", " dictamen", " estrategia", " responsabilidad",
         " parere", " consulenza", " strategia", " responsabilità", " advies", " strategie",
         # A case's strengths and weaknesses: "our weak spot", "their best argument".
         " weak spot", " weak point", " best argument", " best arg ", " our argument",
         " our theory", " theory of the case", " fallback position", " walk-away",
         " à notre avis", " à mon avis", " unseres erachtens", " meines erachtens",
         " nach unserer einschätzung", " en nuestra opinión", " a nuestro juicio",
         " a nostro avviso", " a mio avviso", " naar onze mening", " naar ons oordeel",
         " em nossa opinião", " na nossa opinião", " naszym zdaniem", " moim zdaniem",
         " weak pt", "我们认为", " schwachstelle", " point faible", " punto débil", " punto debole",
         " zwakke plek", " ponto fraco", " słaby punkt", "弱点",
         " aansprakelijkheid", " parecer", " aconselhamento", " estratégia",
         " responsabilidade", " opinia prawna", " porada", " odpowiedzialność", "助言",
         "見解", "戦略", "法律意见", "策略", "责任"),
    # A view or a recommendation, in the words counsel's advice is passed on with ("she thinks",
    # "her take", "we'd recommend", "il conseille"). Everybody recommends things: context.py
    # counts this cue only beside counsel or a legal risk.
    _cue("matter", "a view or recommendation", "privilege",
         " recommend", " we'd advise", " her take", " his take", " their take", " my read",
         " our read", " in my view", " in our view", " her view", " his view", " she thinks",
         " he thinks", " they think", " we think", " thinks", " believes", " advised",
         " advises", " conseille", " recommande", " empfiehlt",
         " rät ", " meint", " raadt", " denkt dat", " aconseja", " recomienda", " opina",
         " consiglia", " raccomanda", " ritiene", " aconselha", " recomenda", " zaleca",
         " radzi", " uważa", "勧め", "推奨", "建议", "认为"),
    _cue("matter", "a legal risk assessed", "privilege",
         # What counsel's assessment says about the client's position: enforceable or void,
         # in breach, liable, on the hook. A general question about the law says the same
         # words; the general dampener lowers it.
         " enforceable", " unenforceable", " void ", " voidable", " won't hold up",
         # Not "illegal": it is as often hyperbole ("illegal levels of spicy").
         " on the hook", " in breach", " breach of", " violat", " unlawful",
         " under-report", " underreport", " underpaid tax", " back taxes", " owe penalties",
         " penalties", " nachzahlung", " redressement", " recargo", " sanzioni",
         " non-compliant", " noncompliant", " liable", " waiver", " estoppel", " infring",
         " confusingly similar", " statute", " statutory", " requalifi", " rechtswidrig",
         " unwirksam", " unzulässig", " haltbar", " illégal", " illicite", " abusif",
         " incumplimiento", " inadempimento", " inexécution", " manquement", " vertragsbruch",
         " pflichtverletzung", " wanprestatie", " incumprimento",
         " prescrizione", " verjährung", " verjaring", " prescripción", " prescrição",
         " przedawnieni",
         " ilícit", " nulo ", " nula ", " illegittim", " illecit", " nullo ",
         " onrechtmatig", " nietig", " niezgodn", " nieważn", " bezprawn", "違法", "違反", "無効",
         "违法", "无效", "违反", "侵权"),
    _cue("matter", "a dispute", "litigation",
         " court ", " courts ", " payout", " gericht", " tribunal", " tribunale", " rechtbank",
         " sąd",
         " pleito", " causa civil", " alimen",
         " settle", " lawsuit", " litigation", " deposition", " arbitration", " mediation",
         # Positions and steps a party keeps from the other side.
         " counteroffer", " counter-offer", " we counter", " our floor", " settlement authority",
         " opening offer", " bottom line", " we pled", " we pleaded", " pleading",
         " expert report", " expert's report", " discovery", " sommation", " assignation",
         " on assigne", " assigner", " référé", " mise en demeure", " biegł", " perito",
         " gutachter",
         # Not "claim" alone: expense and insurance claims are no dispute.
         " claim against", " claims against", " legal claim", " the claim", " their claim",
         " our claim", " his claim", " her claim", " claim for damages", " counterclaim",
         " sue ", " suing", " their lawyer", " injunction", " trial",
         " hearing", " subpoena", " damages",
         " vergleich", " klage", " prozess", " schiedsverfahren", " verhandlung",
         " règlement amiable", " procès", " litige", " contentieux", " arbitrage",
         " acuerdo extrajudicial", " demanda", " litigio", " pleito", " juicio", " arbitraje",
         " transazione", " contenzioso", " arbitrato", " causa ", " schikking", " rechtszaak",
         " geschil", " acordo", " processo", " litígio", " arbitragem", " ugod", " pozew",
         " proces ", " spór", " arbitraż", " rozpraw", " sąd", " dismissal", " expert witness",
         "和解", "訴訟", "裁判", "仲裁", "証言", "诉讼",
         "庭审", "证词", "赔偿"),
    _cue("matter", "wrongdoing", "client_confidence",
         " ukrywa", " hides", " hiding", " leaked", " passed the plans", " transmis les plans",
         " trade secret", " stole", " theft", " diebstahl", " vol de", " robo", " furto",
         " diefstal", " roubo", " kradzie", " 改ざん", "窃取",
         " fraud", " backdat", " altered", " forged", " falsif", " embezzl", " brib",
         " kickback", " misstat", " concealed", " hid the", " destroyed the", " shredded",
         " in cash", " under the table", " off the books", " cooked the books", " manipulat",
         " geschönt", " frisiert", " schwarzgeld", " en liquide", " en efectivo", " in nero",
         " zwart geld", " por fora", " pod stołem", " manipul",
         " betrug", " gefälscht", " unterschlag", " verschwieg", " bestech", " fraude",
         " falsifi", " détourn", " dissimul", " soborn", " ocult", " frode", " corruz",
         " nascost", " vervals", " verduister", " oszust", " sfałszow", " łapówk", " ukrył",
         "不正", "改ざん", "横領", "隠蔽", "欺诈", "伪造", "贪污", "隐瞒", "挪用"),
    _cue("matter", "a family matter", "client_confidence",
         " ex-husband", " ex-wife", " former husband", " former wife", " byłym mężem",
         " byłą żoną", " ex-mari", " ex-femme", " exmarido", " exesposa", " ex marito",
         " ex moglie", " ex-man", " ex-vrouw", " ex-marido", " ex-mulher", " ehemaligen mann",
         " exmann", " exfrau",
         " divorce", " custody", " prenup", " inheritance", " will and", " scheidung",
         " her husband", " his wife", " her wife", " his husband", " separation",
         " leaving her", " leaving him", " affair", " sorgerecht", " erbschaft", " divorc",
         " garde des enfants", " héritage",
         " custodia", " herencia", " divorzio", " eredità", " echtscheiding", " voogdij",
         " erfenis", " guarda", " herança", " rozwód", " opieka nad", " spadek", "離婚", "親権",
         "相続", "离婚", "抚养权", "遗产"),
    _cue("matter", "a dismissal or discipline", "hr",
         " walked out", " escorted out", " periodo di prova", " probezeit",
         " période d'essai", " periodo de prueba", " proeftijd", " período de experiência",
         " okres próbny", " non confermar", " not confirm", " expense report",
         " resign", " notice period", " final paycheck", " final pay ", " her file",
         " his file", " personalakte", " dossier personnel", " expediente personal",
         " fascicolo personale", " personeelsdossier", " akta osobow",
         " terminat", " fire ", " fired", " firing", " let go", " lay off", " laid off",
         " layoff", " dismiss", " disciplinary", " written warning", " final warning",
         " misconduct", " harassment", " grievance", " won't be renewed", " not be renewed",
         " non-renewal", " not renewing", " probation", " nagan", " stellen fallen weg",
         " stellenabbau", " plan social", " expediente de regulación", " ere ", " esuberi",
         " reorganisatie", " zwolnienia grupowe", " redundan", " eliminat", " demot",
         " performance improvement", " performance review", " pip ", " underperform",
         " kündigung", " gekündigt", " kündigen", " abmahnung", " entlass",
         " aufhebungsvertrag", " licenci", " avertissement", " rupture conventionnelle",
         " sanction", " despid", " despedir", " sanción", " licenziament", " licenziare",
         " richiamo", " ontslag", " ontslaan", " ontslagen", " waarschuwing", " demissão",
         " demitir", " demitid", " advertência", " zwolnien", " zwolnić", " wypowiedzen",
         " nagana", "解雇", "懲戒", "降格", "退職勧奨", "人事評価", "开除", "辞退", "处分",
         "裁员", "绩效"),
    # Weaker (0.7): an investigation may be of a missing pallet, and a complaint of a parcel.
    _cue("matter", "a workplace complaint or investigation", "hr",
         # Not "complaint" alone: a customer's complaint is not an HR matter.
         " investigation", " investigate", " formal complaint", " complaint against",
         " complaints against", " filed a complaint", " hr complaint", " complaint about him",
         " complaint about her", " complaints about him", " complaints about her",
         " allegation", " accused", " exit interview", " suspend him",
         " suspend her", " suspended him", " suspended her", " suspended without pay",
         " suspension without pay", " investigación", " acoso", " se le suspende",
         " suspenderle", " suspensión de empleo", " untersuchung", " beschwerde gegen",
         " vorwürfe", " vorwurf", " belästigung", " suspendiert", " freigestellt",
         " freistellung", " enquête interne", " plainte contre", " harcèlement",
         " mise à pied", " indagine interna", " molestie", " sospensione", " sospeso",
         " sospesa", " intern onderzoek", " klacht tegen", " intimidatie",
         " ongewenst gedrag", " geschorst", " schorsing", " investigação", " queixa contra",
         " assédio", " suspensão", " suspenso", " dochodzeni", " skarga na", " molestowani",
         " mobbing", " zawieszeni", " zawieszon", "ハラスメント", "セクハラ", "パワハラ", "停職",
         "懲戒調査", "骚扰", "停职", "内部调查", weight=0.7),
    _cue("matter", "performance", "hr",
         " performance rating", " appraisal", " poor performance", " low performance",
         " missed targets", " missed their targets", " missed her targets",
         " missed his targets", " not meeting expectations", " below expectations",
         " performance concerns", " performance issues", " leistungsbeurteilung",
         " minderleistung", " évaluation annuelle", " insuffisance professionnelle",
         " evaluación del desempeño", " bajo rendimiento", " valutazione delle prestazioni",
         " scarso rendimento", " functioneringsgesprek", " beoordelingsgesprek",
         " disfunctioneren", " avaliação de desempenho", " baixo desempenho",
         " ocena okresowa", " słaba ocena", " słabe wyniki", "評価面談", "目標未達", "考核"),
    _cue("matter", "immigration status", "hr",
         " visa status", " work visa", " visa sponsorship", " h-1b", " h1b", " work permit",
         " immigration status", " right to work", " green card", " residence permit",
         " aufenthaltstitel", " arbeitserlaubnis", " aufenthaltserlaubnis", " titre de séjour",
         " permis de travail", " permiso de trabajo", " permiso de residencia",
         " permesso di soggiorno", " verblijfsvergunning", " werkvergunning",
         " autorização de residência", " visto de trabalho", " pozwolenie na pracę",
         " karta pobytu", "在留資格", "就労ビザ", "工作签证", "工作许可"),
    _cue("matter", "leave", "hr",
         " maternity leave", " paternity leave", " parental leave", " medical leave", " fmla",
         " elternzeit", " mutterschutz", " congé maternité", " congé parental",
         " baja por maternidad", " congedo di maternità", " zwangerschapsverlof",
         " ouderschapsverlof", " licença-maternidade", " urlop macierzyński", "産休", "育休",
         "产假"),
    _cue("matter", "pay", "hr",
         "% raise", " raise of", " raises for", " pay raise", " pay increase",
         " salary increase", " merit increase", " pay band", " salary band", " pay grade",
         " gross pay", " net pay", " hourly rate", " podwyżk", " brutto",
         " gehaltserhöhung", " lohnerhöhung", " augmentation de salaire", " aumento de sueldo",
         " aumento salarial", " aumento di stipendio", " loonsverhoging", " loonstrook",
         " busta paga", " nómina", " fiche de paie", " lohn ", " holerite",
         " salary", " salaries", " compensation", " pay rise", " a raise", " salary raise",
         " raise for", " bonus", " severance",
         " gehalt", " gehälter", " abfindung", " salaire", " rémunération", " indemnité",
         " salario", " sueldo", " indemnización", " stipendio", " retribuzione", " salaris",
         " vergoeding", " salário", " indenização", " wynagrodzeni", " pensj", " odpraw",
         "給与", "年収", "賞与", "退職金", "工资", "薪水", "薪资", "奖金", "补偿金"),
    _cue("matter", "a diagnosis", "health",
         " diagnos", " prognos", " cancer", " tumo", " chemo", " depress", " pregnan", " hiv",
         " therapy", " medication", " surgery", " sick leave", " mental health", " rehab",
         " krebs", " krankheit", " schwanger", " krankgeschrieben", " maladie", " enceinte",
         " arrêt maladie", " enfermedad", " embarazada", " embarazo", " aborto", " grossesse",
         " schwangerschaft", " gravidanza", " zwangerschap", " gravidez", " sick note",
         " fit note", " doctor's note", " atestado", " cid ", " krankmeldung",
         " arbeitsunfähig", " au bis", " arrêt de travail", " baja laboral",
         " certificado médico", " certificato medico", " ziekmelding", " bandscheib",
         " baja médica", " malattia",
         " incinta", " ziekte", " zwanger", " ziekteverlof", " doença", " grávida",
         " diagnoz", " chorob", " ciąż", " zwolnienie lekarskie", "診断", "がん", "癌", "病気",
         "妊娠", "休職", "うつ", "诊断", "癌症", "疾病", "怀孕", "病假", "抑郁", " leuk",
         " blood test", " test results", " parkinson", " alzheimer", " dementia", " stroke",
         " seizure", " epilep", " burnout", " burn-out", " miscarriage", " ivf", " adhd",
         " autism", " anxiety", " ptsd", " bipolar", " schizo", " addiction", " dialysis",
         " transplant", " biops", " mri", " oncolog", " hospital", " krankenhaus",
         " hôpital", " ospedale", " ziekenhuis", " szpital", " befund", " traitement",
         " tratamiento", " terapia", " behandeling", " tratamento", " leczeni", "入院",
         "手術", "医院", "住院", "手术"),
    _cue("matter", "a deal or results", "mnpi",
         " acqui", " merger", " takeover", " term sheet", " buyout", " valuation",
         " tender offer", " deal", " due diligence", " earnings", " quarterly results",
         " revenue", " guidance", " profit warning", " ipo", " übernahme", " fusion",
         " quartalszahlen", " umsatz", " rachat", " résultats", " chiffre d'affaires",
         " adquisición", " fusión", " resultados", " ingresos", " acquisizione", " fusione",
         " risultati", " fatturato", " overname", " fusie", " resultaten", " omzet",
         " aquisição", " fusão", " receita", " przejęci", " fuzj", " wyniki", " przychod",
         "買収", "合併", "決算", "業績", "売上", "收购", "并购", "业绩", "营收", "财报",
         " divest", " restate", " cessione", " cession ", " sale of", " selling the",
         " series b", " series c", " funding round", " miss the", " guidance cut", " loi ",
         " letter of intent", " spin-off", " stepping down",
         " step down", " profit warning", " rücktritt", " démission", " dimisión",
         " dimissioni", " aftreden", " renúncia", " rezygnacj", "辞任", "辞职"),
)

STAKES = (
    _cue("stake", "the writer's own client or firm", None,
         " our client", " my client", " our firm", " we represent", " i represent",
         " on behalf of our", " our company", " our employee", " my employee", " my team",
         " our team", " my manager", " my boss", " our ceo", " our board", " our cfo",
         " unser mandant", " unsere mandantin", " unseres mandanten", " mein mandant",
         " meine mandantin", " unser unternehmen", " unsere firma", " notre client",
         " mon client", " ma cliente", " notre société", " notre entreprise",
         " nuestro cliente", " nuestra cliente", " mi cliente", " nuestra empresa",
         " nostro cliente", " nostra cliente", " mio cliente", " la mia cliente",
         " nostra azienda", " il cda", " del cda", " onze cliënt", " mijn cliënt", " ons bedrijf",
         " nosso cliente",
         " nossa cliente", " meu cliente", " minha cliente", " nossa empresa",
         " nasz klient", " naszego klienta", " mój klient", " moja klientka", " nasza firma",
         " naszej firmy", "当社", "弊社", "我が社", "本所", "弊所", "我们公司",
         "我们的客户", "我司", "我的客户"),
    # The firm's own counsel: what they said is the firm's legal advice, even when the text
    # goes on as a question ("our lawyer said we're on the hook — explain this to the owner").
    _cue("stake", "the writer's firm's counsel", None,
         " our lawyer", " our counsel", " our attorney", " our solicitor", " our gc",
         " our general counsel", " our legal team", " our outside counsel", " our in-house",
         " our accountant", " our tax adviser", " our tax advisor", " our auditor ",
         # The writer's own side of a dispute.
         " our strategy", " our litigation", " our case ", " our defence", " our defense",
         " our side", " notre stratégie", " unsere strategie", " nuestra estrategia",
         " la nostra strategia", " onze strategie", " nossa estratégia", " nasza strategia",
         " notre avocat", " nos avocats", " unsere anwältin", " unser anwalt",
         " unsere anwälte", " unseren anwalt", " nuestro abogado", " nuestra abogada",
         " nuestros abogados", " il nostro avvocato", " la nostra avvocata",
         " i nostri avvocati", " onze advocaat", " onze advocaten", " nosso advogado",
         " nossa advogada", " nasz prawnik", " nasz adwokat", "顧問弁護士", "我们的律师",
         "公司律师"),
    _cue("stake", "the writer's own situation", None,
         " my therapist", " my doctor", " my psychiatrist", " my diagnosis", " i was diagnosed",
         " i've been diagnosed", " my salary", " my employer", " my lawyer", " my attorney",
         " our auditors",
         " mein arzt", " meine ärztin", " mon médecin", " mi médico", " il mio medico",
         " mijn arts", " meu médico", " mój lekarz", " mein anwalt", " mon avocat",
         " mi abogado", " il mio avvocato", " mijn advocaat", " meu advogado",
         " mój adwokat", "私の主治医", "我的医生"),
)

CUES: tuple[Cue, ...] = (*MARKERS, *SECRECY, *ROLES, *MATTERS, *STAKES)

# How much each family weighs; a second different cue of the same family adds half its
# weight (a text that names a dismissal and a salary is more surely about pay than one that
# names either), up to one and a half times the weight. The default threshold, 1.0, is met by
# a marker with one more cue (the detectors catch the strong stamps alone); by role + matter +
# secrecy; by role + matter + stake + particular; not by any two of role, matter, stake,
# particular, nor by a marker alone ("INTERNAL ONLY: the kitchen is closed on Friday").
WEIGHTS: dict[str, float] = {
    "marker": 0.7,
    "secrecy": 0.5,
    "role": 0.35,
    "matter": 0.35,
    "stake": 0.25,
    "particular": 0.3,
}


class Dampener(NamedTuple):
    name: str
    says: str  # the explanation: "lowered: reads as fiction"
    factor: float
    needles: tuple[str, ...]


DAMPENERS = (
    Dampener("fiction", "reads as fiction", 0.3, (
        " novel", " thriller", " krimi", " szene", " kurzgeschichte", " polar ", " giallo",
        " mystery novel", " detective story", " short story", " screenplay", " fiction",
        " fictional", " character",
        " plot ", " scene ", " episode", " tv drama", " tv series", " sitcom", " my story",
        " a story", " the story", " roman ", " drehbuch", " erzählung", " fiktiv", " récit",
        # "nouvelle" alone is also "new": the short story as something written.
        "écris une nouvelle", "écrire une nouvelle", "rédige une nouvelle", "une nouvelle où",
        "une nouvelle dans laquelle", "une nouvelle sur", " fictif", " fictive", " novela",
        " guion", " cuento", " ficticio",
        " romanzo", " racconto", " sceneggiatura", " fittizio", " verhaal", " fictief",
        " romance ", " ficção", " fictício", " conto ", " powieść", " opowiadani", " fikcyjn",
        "小説", "物語", "脚本", "架空", "小说", "故事", "剧本", "虚构")),
    Dampener("template", "reads as a template with blanks", 0.3, (
        # "generic" as a text to write, not a generic drug.
        " template", " lorem ipsum", " boilerplate", "write a generic", "draft a generic",
        "wants a generic", "need a generic", " generic checklist", " generic letter",
        " generic email", " generic message", " generic notice", " generic clause",
        " vorlage", " muster", " modèle", " plantilla",
        " modello", " sjabloon", " modelo", " szablon", " wzór", "テンプレート", "雛形", "模板")),
    # Blanks ([CLIENT NAME], ____, {{x}}) are punctuation, which the automaton reads as
    # spaces: context.py looks for them with a pattern.
    Dampener("synthetic", "reads as made-up test data", 0.3, (
        " test data", " test fixture", " fixture", " fake", " dummy", " mock", " synthetic",
        " sample data", "example com", " made-up", " made up", " seed data", " testdaten",
        " données de test", " fictives", " datos de prueba", " dati di test",
        " testgegevens", " dados de teste", " dane testowe", "テストデータ", "ダミー",
        "测试数据", "假数据")),
    # An example in documentation or a lesson: "for example 020 7946 0000", "sample customer".
    # Weaker than the three above (a real letter may be sent "as an example"): 0.5, and
    # context.py does not apply it to a particular case (our client, something told us).
    Dampener("example", "reads as an example or sample", 0.5, (
        " for example", " example ", " examples", " sample ", " samples", " e g ",
        " zum beispiel", " beispiel", " par exemple", " exemple", " por ejemplo", " ejemplo",
        " ad esempio", " esempio", " bijvoorbeeld", " voorbeeld", " por exemplo", " exemplo",
        " na przykład", " przykład", "例えば", "サンプル", "例如", "示例")),
    Dampener("public", "reads as news already public", 0.5, (
        " were released", " was released", " released this", " released today",
        " released yesterday", " released last", " already public", " publicly available",
        " announced", " publicly", " press release", " reported",
        " reuters", " bloomberg", " headline", " in the news", " news article",
        " public record", " was published", " bekannt gegeben", "報道", "据报道", "公开报道",
        # A reported judgment: its citation is public ("[2019] EWCA Civ 12", "545 F.3d 1").
        " ewca ", " ewhc ", " uksc ", " ukhl ", " f 3d ", " f 4th ", " f supp ", " s ct ",
        " ecli ", " bverfg", " this judgment", " the judgment in", " case law")),
    # "According to": the news's words, and also how counsel's view is passed on ("secondo
    # lui, la clausola è nulla"). Not applied where the text is a particular case or names
    # counsel (context.py).
    Dampener("hearsay", "reads as news already public", 0.5, (
        " according to", " laut ", " selon ", " según ", " secondo ", " volgens ",
        " segundo ", " według ")),
    Dampener("policy", "reads as a policy, handbook, textbook or training text", 0.5, (
        " handbook", " lecture", " code of conduct", " textbook", " hypothetical",
        " case study", " quiz", " law school", " law student", " exam ", " lehrbuch",
        " fallstudie", " étude de cas", " caso práctico", " manuale", " leerboek",
        " podręcznik", " handbuch", " handboek")),
    # The same kind of text named by words that a case uses too: "she hasn't completed the
    # infection-control training", "the course of dealing", "the staff survey said". Not
    # applied where the text is a particular case (context.py).
    Dampener("training", "reads as a policy, handbook, textbook or training text", 0.5, (
        # Not "course" alone: "of course", "the course of dealing".
        " training", " newsletter", " survey", " a course", " online course", " courses",
        " course on ", " course about", " course for", " crash course", " schulung",
        " formation", " manuel",
        " manual", " formación", " formazione", " treinamento", " szkoleni", "研修", "培训")),
    Dampener("general", "reads as a general question, about no particular person or matter",
             0.5, (
        " in general", " generally", " typically", " usually", " blog post", " article about",
        " explain", " what is ", " what are ", " what's the difference", " how does ",
        " how do ", " is it legal", " what does ", " is it true", " does that mean",
        "qué diferencia", " quelle différence", " der unterschied", " la differenza",
        " het verschil", " a diferença", " różnica", "の違い", "区别",
        " allgemein", " en général", " en general", " in generale",
        " in het algemeen", " em geral", " ogólnie", " was ist", " qu'est-ce", " qué es",
        " cos'è", " wat is", " o que é", " co to jest", "一般的", "一般来说", "什么是", "とは")),
)
