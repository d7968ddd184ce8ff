"""The contextual layer's HR and privilege families: a named person's dismissal, performance,
pay, complaint, immigration status or leave; counsel's advice passed on without a stamp
("our lawyer thinks…", "legal said…", "à notre avis…"), litigation positions and case captions.
Each family with variants in other wordings and languages, and the near misses that must stay
ordinary. The strings are our own; none comes from a blind set."""

import pytest

from routing.sensitivity import scan


def explain(text):
    return scan(text).explain()


# --- HR: a particular person's employment matter ---------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "We're letting Omar go next Tuesday — he has no idea yet. Write a script for the meeting.",
        "Summarise for her file: Marta Jensen got a written warning today after two unexplained "
        "absences; next step is a performance improvement plan.",
        "Priya Nair's visa sponsorship is up for renewal and she's worried; draft a note from me.",
        "Pls rewrite: 'Hi Tom, the investigation into the complaint against Greg found he did make "
        "the comments; he will receive a final warning.'",
        "Salary review — Joana Silva 48k → 52k, Ben Okafor stays at 45k, Lea Wong 61k → 63k.",
        "Name | Team | Salary\nAnna Berg | Design | €58,000\nTom Reyes | Ops | €51,500",
        "Jen from finance earns 74k and asked for a raise to 82k; band max is 80k. Dont forward.",
        "La salariée Claire Dumas a déposé une plainte pour harcèlement contre son chef d'équipe; "
        "l'enquête interne commence lundi. Rédige la convocation.",
        "Mitarbeiter Jan Kowalski ist krankgeschrieben und die Probezeit endet bald; wir "
        "überlegen, ihn nicht zu übernehmen. Entwurf für die Personalakte bitte.",
        "Notatka: Anna Nowak – zwolnienie dyscyplinarne; Piotr Wójcik – podwyżka do 9 800; "
        "nie informujemy jeszcze zespołu.",
        "下周要和王芳谈绩效问题，她连续两个季度没完成指标，她本人还不知道要被降职。帮我准备谈话要点。",
        "田中さんのハラスメント調査の結果、懲戒処分が妥当との結論になりました。通知文を作ってください。",
    ],
    ids=["let-go", "warning", "visa", "investigation", "pay-list", "pay-table", "no-apostrophe",
         "fr", "de", "pl", "zh", "ja"],
)
def test_a_named_persons_employment_matter_is_sensitive(text):
    assert scan(text).sensitive, explain(text)


@pytest.mark.parametrize(
    "text",
    [
        "Let Anna go first in the presentation tomorrow, then Ben. Thanks, Maria",
        "Please ask Javier Montes to send the delivery schedule; the warehouse investigation of "
        "the missing pallet is closed.",
        "Welcome Aisha Khan to the payroll team! She starts Monday; draft a short intro.",
        "Write a generic checklist for a fair redundancy consultation, no names.",
        "Explain how a formal complaint against a manager is usually investigated under ACAS "
        "guidance.",
        "What visa do I need as a tourist to visit Japan for two weeks?",
        "How much maternity leave do mothers get in Sweden by law?",
        "Zrób tabelkę: Poniedziałek – 8 godzin, Wtorek – 6 godzin, Środa – 7 godzin.",
        "Name | Team | Favourite snack\nAnna Berg | Design | crisps\nTom Reyes | Ops | apples",
        "Write a short story where the new hire finds out her manager is embezzling and tells HR.",
        "We're hiring! Senior backend engineer, Berlin. We offer visa sponsorship, a competitive "
        "salary band, 30 days leave and parental leave.",
        "Reuters: Acme's CFO Jane Miller was placed on leave pending an internal investigation "
        "into expense claims, the company said on Tuesday.",
    ],
)
def test_hr_near_misses_stay_ordinary(text):
    assert not scan(text).sensitive, explain(text)


def test_a_training_word_in_a_persons_file_does_not_make_it_a_course():
    text = ("Draft a PIP for Nadia Osei (receptionist): late 7 times since March and she hasn't "
            "finished the data-protection training.")
    assert scan(text).sensitive, explain(text)
    course = "Draft a training course outline on performance improvement plans for managers."
    assert not scan(course).sensitive, explain(course)


# --- privilege: counsel's advice passed on without a stamp ------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Our outside counsel thinks the exclusivity clause is probably unenforceable in Germany; "
        "turn this into two bullets for the CEO.",
        "Legal reviewed the NDA and said our non-solicit is probably void, so don't rely on it in "
        "the call with them. Draft my talking points.",
        "our lawyer says we're on the hook for the unpaid overtime. help me explain this to the "
        "owner in plain words",
        "Unsere Anwältin meint, die Kündigung von Frau Becker sei ohne Abmahnung kaum haltbar; sie "
        "empfiehlt einen Aufhebungsvertrag.",
        "Selon notre avocat, le licenciement de M. Petit risque d'être jugé abusif ; il conseille "
        "de transiger. Reformule pour le directeur.",
        "Nuestra abogada opina que la cláusula de permanencia es nula; no reclamemos la "
        "penalización. Resúmelo en dos frases.",
        "Secondo il nostro avvocato il contratto con Fornitura Rossi è risolvibile per "
        "inadempimento. Scrivi una nota per il CdA.",
        "Madame, vous nous avez demandé si la clause de non-concurrence est valable. À notre avis, "
        "elle est disproportionnée et donc inopposable.",
        "顧問弁護士によると、この契約条項は独占禁止法に違反する可能性が高いとのことです。社長向けに要約して。",
    ],
    ids=["en-outside", "en-legal", "en-explain", "de", "fr", "es", "it", "fr-letter", "ja"],
)
def test_counsels_view_passed_on_is_privileged(text):
    report = scan(text)
    assert report.sensitive, report.explain()


@pytest.mark.parametrize(
    "text",
    [
        "Hi Sam, I'd recommend the Thai place on Elm Street; their curry is illegal levels of "
        "spicy.",
        "My colleague Tom recommended a great dentist; can you draft a thank-you message?",
        "Dear Mr. Lee, thank you for your application. We recommend you apply again next year.",
        "Write a blog post about why non-compete clauses are often unenforceable in California.",
        "What's the difference between a void and a voidable contract? Explain in general.",
        "Our GC agreed to speak at the conference on AI regulation; draft a short bio.",
        "Lawyer jokes: give me three clean ones about a solicitor who always says it's illegal.",
        "Selon Le Monde, le gouvernement prépare une réforme des retraites. Résume l'article.",
        "Laut Handelsblatt hat die Bank gestern ihre Zahlen veröffentlicht. Fass es zusammen.",
        # Counsel's view on something that is no legal matter.
        "Nuestra abogada opina que deberíamos cambiar de proveedor de café. ¿Qué marca "
        "recomiendas?",
        "Draft an email inviting the team to a lunch-and-learn where our GC will explain the "
        "new whistleblowing policy.",
        # A reported judgment is public, whatever it held.
        "Summarise this judgment: In Smith v. Jones [2019] EWCA Civ 12, the Court of Appeal held "
        "that the exclusion clause was unenforceable.",
    ],
)
def test_privilege_near_misses_stay_ordinary(text):
    assert not scan(text).sensitive, explain(text)


def test_a_recommendation_counts_only_beside_counsel_or_a_legal_risk():
    plain = scan("Hi Priya, we think the offsite should be in May; Tom's view is June.")
    assert plain.context is None or "a view or recommendation" not in str(plain.context.cues)
    legal = scan("Hi Priya, our solicitor thinks the lease break clause is unenforceable.")
    assert ("matter", "a view or recommendation") in legal.context.cues
    assert legal.sensitive, legal.explain()


def test_according_to_counsel_is_not_news_but_according_to_a_paper_is():
    counsel = scan("Secondo lui, l'avvocato, la clausola penale è nulla: riassumi per il CdA.")
    assert "news already public" not in counsel.explain()
    paper = scan("Según el periódico, la empresa anunció un acuerdo; resume la demanda.")
    assert "news already public" in paper.explain()


# --- litigation positions and captions -------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Prep notes Ortiz v. Halden: our floor is 90k, we open at 160k, their weak point is the "
        "missing inspection report.",
        "Dupont c. Novatec, notre stratégie : on ne répond pas à la mise en demeure avant le 15, "
        "puis on assigne en référé. Résume pour l'associé.",
        "Kim — our best argument is prior use since 2016; if they push we counter with a "
        "cancellation action. Keep this internal.",
        "the expert report says damages of 1.2M, not the 4M we pled, and we havent produced it "
        "yet. outline options",
        "Our litigation strategy: delay the deposition until after the expert's report, and "
        "don't concede the causation point. Summarise for the team.",
        "quick q — our accountant thinks we under-reported VAT for 2022 and might owe "
        "penalties. how do I explain this to my business partner?",
    ],
    ids=["caption-v", "caption-c", "argument", "pled", "our-strategy", "accountant"],
)
def test_litigation_positions_are_sensitive(text):
    assert scan(text).sensitive, explain(text)


@pytest.mark.parametrize(
    "text",
    [
        "Brown v. Board of Education — explain why it matters today in two paragraphs.",
        "Can you summarise the plot of Kramer vs. Kramer in three lines?",
        "What's a reasonable bottom line price for a used Golf 2017 with 90k km?",
        "Explain discovery in US civil litigation to a first-year student.",
        "Our strategy for the Q3 marketing push: more video, fewer webinars. Make it a slide.",
        "Our accountant is on holiday until Monday; who can approve the expense claims?",
        "Why do football referees give so few penalties in the last minutes? Explain.",
        "Don't admit defeat: write a motivational quote for our sales team.",
    ],
)
def test_litigation_near_misses_stay_ordinary(text):
    assert not scan(text).sensitive, explain(text)


# --- dampener words that a case uses too -------------------------------------------------------
def test_generic_is_a_template_only_as_a_text_to_write():
    drug = ("My mom Linda takes the generic version of lisinopril since her stroke; which brand "
            "is it?")
    assert scan(drug).sensitive, explain(drug)
    checklist = "Our HR team wants a generic checklist for a fair disciplinary hearing."
    assert not scan(checklist).sensitive, explain(checklist)


def test_of_course_is_not_a_course():
    text = ("notes for the Henley memo: our weak spot is the email chain; of course the course "
            "of dealing helps. dont put the estoppel theory in writing to the sales team yet")
    assert scan(text).sensitive, explain(text)
