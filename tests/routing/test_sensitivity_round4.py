"""Families written for the fourth round: privilege legends as they are stamped across
jurisdictions and languages (US evidence rules, protective orders, UK "subject to contract",
professional secrecy and e-mail footers in six European languages, Japanese and Chinese stamps,
a document said to be privileged), and more ways an event is signalled as not yet public
(embargoes, insider lists, wall-crossing, filings to come, trial readouts; English, German,
French, Spanish, Italian, Japanese). The strings are our own; none comes from a blind set."""

import pytest

from routing.sensitivity import scan


def categories(text):
    return scan(text).categories


# --- privilege: US stamps ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "AC/WP — draft chronology for the Halvorsen matter. Tighten the timeline section.",
        "A/C Priv — notes from the call with outside counsel, please summarise.",
        "HIGHLY CONFIDENTIAL - AEO. Exhibit 14, deposition of the plant manager.",
        "Privileged and Confidential – Subject to FRE 502. Summarise the clawback list.",
        "Confidential settlement communication – FRE 408. Rewrite the offer paragraph.",
        "Inadmissible under Rule 408: we would accept $2.1M to resolve all claims.",
        "Protected by the attorney work-product doctrine. Draft follow-up questions.",
        "Attorney work-product: interview notes, witness J. Ruiz. Clean them up.",
        "CONFIDENTIAL – SUBJECT TO PROTECTIVE ORDER. Summarise pages 30-41 of the transcript.",
        "Designated confidential, subject to the stipulated protective order. Index these.",
        "This exhibit was filed under seal; make a short summary for the client.",
        "Joint defense privileged material — shared with co-defendants' counsel only.",
        "Common-interest privileged: analysis of the patent claims for both licensees.",
        "Prepared at the request of our attorneys in connection with the audit inquiry.",
        "Outside counsel's eyes only. Summarise the damages model.",
        "Confidential mediation communication, Cal. Evid. Code 1119 — tighten the brief.",
        "Privileged legal advice follows; please shorten it for the board.",
    ],
)
def test_us_privilege_stamps(text):
    assert "privilege" in categories(text)


# --- privilege: UK and Commonwealth -----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Without prejudice save as to costs. Our client proposes £40,000 in full settlement.",
        "Subject to contract. Heads of terms for the lease of Unit 4, please tidy them up.",
        "Strictly private and confidential – addressee only. Reference letter for M. Okafor.",
        "PRIVATE AND CONFIDENTIAL: summary of the grievance hearing.",
        "LEGAL ADVICE PRIVILEGE — note of advice on the supplier dispute.",
        "Litigation privileged: expert's draft report, please check the figures.",
        "Covered by solicitor-client privilege. Summarise counsel's opinion on the lease.",
    ],
)
def test_uk_and_commonwealth_legends(text):
    assert "privilege" in categories(text)


# --- privilege: European languages, professional secrecy and footers --------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Vertraulich – anwaltliches Berufsgeheimnis. Bitte fassen Sie den Vermerk zusammen.",
        "Dieses Schreiben unterliegt der anwaltlichen Verschwiegenheitspflicht.",
        "Diese Nachricht ist nur für den Empfänger bestimmt.",
        "Diese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen.",
        "Wenn Sie nicht der richtige Adressat sind, informieren Sie bitte den Absender.",
        "STRENG VERTRAULICH: Entwurf der Klageerwiderung.",
        "Confidentiel – Secret professionnel. Résumez la note pour le client.",
        "Couvert par le secret professionnel de l'avocat : projet de consultation.",
        "Sous toutes réserves. Proposition transactionnelle de notre client.",
        "Ce message et ses pièces jointes sont confidentiels et destinés exclusivement à leurs "
        "destinataires.",
        "Si vous avez reçu ce message par erreur, merci de le supprimer.",
        "Confidencial – secreto profesional. Resuma el informe.",
        "Comunicación protegida por el secreto profesional abogado-cliente.",
        "Este mensaje es confidencial y está dirigido exclusivamente a su destinatario.",
        "Si usted ha recibido este mensaje por error, notifíquelo al remitente.",
        "Riservato – coperto da segreto professionale. Riassumi il parere.",
        "Strettamente riservato: bozza dell'accordo transattivo.",
        "Se avete ricevuto questo messaggio per errore, cancellatelo.",
        "Strikt vertrouwelijk – concept-dagvaarding, graag inkorten.",
        "Dit bericht is uitsluitend bestemd voor de geadresseerde.",
        "Heeft u dit bericht per abuis ontvangen, verwijder het dan.",
        "Confidencial – sigilo profissional. Resuma o parecer.",
        "Esta mensagem é destinada exclusivamente ao destinatário.",
    ],
)
def test_european_legends_and_footers(text):
    assert "privilege" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "【社外秘】訴訟方針についてのメモを要約してください。",
        "弁護士・依頼者間秘匿特権の対象となる文書です。要約してください。",
        "【機密】契約書の修正案",
        "極秘:和解案の比較表を作ってください。",
        "本メールには機密情報が含まれています。",
        "誤って受信された場合は直ちに削除してください。",
        "律师-客户特权文件,请总结。",
    ],
)
def test_japanese_and_chinese_stamps(text):
    assert "privilege" in categories(text)


# --- privilege: a document said to be privileged ---------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Our lawyers marked this privileged, so keep it between us. Summarise it.",
        "This memo is privileged, don't forward. Can you shorten it?",
        "The attached analysis is strictly privileged — rewrite the conclusion.",
        "Legal stamped the deck 'Attorneys' Eyes Only'. Pull out the numbers.",
        "It's privileged and confidential, but help me edit the intro.",
        "Our GC says this is covered by privilege; summarise it for the team.",
        "Der Anwalt hat das Gutachten als vertraulich markiert. Bitte kürzen.",
        "Document marqué « confidentiel » par l'avocat : résumez-le.",
        "Documento marcado como confidencial por el abogado; resúmalo.",
        "Ohne Präjudiz: Vergleichsangebot unserer Mandantin.",
        "[대외비] 소송 전략 메모를 요약해 주세요.",
        "변호사-의뢰인 비밀유지특권 대상 문서입니다.",
    ],
)
def test_document_said_to_be_privileged(text):
    assert "privilege" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "What is legal advice privilege and how does it differ from litigation privilege?",
        "Explain the common interest doctrine in two paragraphs.",
        "We are privileged to serve customers in 40 countries. Improve this tagline.",
        "The service account is privileged, so how do I restrict its access?",
        "Why does this process need privileged mode in Docker?",
        "What does FRE 502 say about inadvertent disclosure?",
        "How do I mark a document as confidential in Word?",
        "Our privacy policy keeps customer data confidential. Proofread it.",
        "Was ist die Verschwiegenheitspflicht eines Anwalts?",
        "Que signifie « sous toutes réserves » ?",
        "機密情報とは何ですか?",
        "The error was in my compiler, not the code.",
        "Ich bin streng, aber fair.",
        "I have an interest in joint ventures.",
        "Is a board memo covered by privilege?",
        "Wie wird ein Dokument als vertraulich markiert?",
    ],
)
def test_privilege_near_misses_of_the_fourth_round(text):
    assert "privilege" not in categories(text)


# --- mnpi: not-public signals -----------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "You have been added to the insider list for Project Kite.",
        "We were wall-crossed on the placing; summarise the terms.",
        "This announcement contains inside information. Draft the RNS headline.",
        "Embargo: 07:00 CET. Our Q3 revenue rose 12% to €410m.",
        "We haven't told the market yet that the CFO is leaving. Draft the staff note.",
        "Before it's public, help me plan comms for the layoffs.",
        "Ahead of the readout next week, summarise the phase 3 topline data.",
        "We got a complete response letter from the FDA; internal only for now.",
        "Under NDA: the merger with Corvane closes next month. Draft the integration plan.",
        "Draft the RNS we will issue tomorrow on the acquisition.",
        "We will publish the 6-K on Friday together with the impairment.",
        "Our biggest client is churning; keep it quiet until we report.",
        "The recall of lot 22 is not public yet.",
        "Sperrfrist: Donnerstag, 7:30 Uhr. Umsatz plus 8 %.",
        "Die Übernahme ist noch nicht öffentlich. Bitte Pressemitteilung entwerfen.",
        "Vor der Veröffentlichung der Ad-hoc: Prognose wird gesenkt.",
        "Sous embargo jusqu'au 14 mars : résultats annuels.",
        "L'acquisition n'est pas encore publique, préparez le communiqué.",
        "Information privilégiée : le rappel de produit sera annoncé lundi.",
        "La adquisición todavía no es pública.",
        "L'acquisizione non ancora annunciata: prepara la nota.",
        "未公表の買収案件について要約してください。",
        "決算発表前に下方修正の資料を作成してください。インサイダー情報です。",
    ],
)
def test_mnpi_signals_of_the_fourth_round(text):
    assert "mnpi" in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "What is an insider list under MAR?",
        "What is an embargo in journalism?",
        "How do trade embargoes work?",
        "Explain what wall-crossing means in equity capital markets.",
        "Our customer contract is confidential, how do I renew it?",
        "How long does an FDA recall usually take?",
        "Apple will publish its 10-K in November; what should I look for?",
        "インサイダー取引とは何ですか?",
    ],
)
def test_mnpi_near_misses_of_the_fourth_round(text):
    assert "mnpi" not in categories(text)


# --- the new patterns stay linear -------------------------------------------------------------
@pytest.mark.parametrize(
    "hostile",
    [
        "marked as " * 30_000,
        "this memo is " * 30_000,
        "is privileged " * 20_000,
        "privileged and confidential " * 10_000,
        "subject to the " * 30_000,
        "filed under " * 30_000,
        "fre " * 50_000,
        "ac/ " * 50_000,
        "joint defense " * 20_000,
        "outside counsel " * 20_000,
        "ce message " * 30_000,
        "este mensaje " * 30_000,
        "dit bericht " * 30_000,
        "reçu ce " * 30_000,
        "recibido este " * 30_000,
        "nur für den " * 30_000,
        "vertraulich " * 30_000,
        "streng " * 50_000,
        "本メール" * 50_000,
        "誤って" * 50_000,
        "【機密" * 50_000,
        "律师-" * 50_000,
        "insider " * 30_000,
        "wall " * 50_000,
        "before it's " * 30_000,
        "haven't told the " * 20_000,
        "noch nicht " * 30_000,
        "pas encore " * 30_000,
        "ahead of the " * 30_000,
        "draft the " * 30_000,
        "sera " * 50_000,
        "embargo merger " * 20_000,
        "未公表" * 50_000,
        "covered by " * 30_000,
        "als vertraulich " * 30_000,
        "marqué " * 50_000,
        "marcado como " * 30_000,
        "변호사-" * 50_000,
    ],
    ids=lambda text: repr(text[:12]),
)
def test_fourth_round_patterns_finish_on_pathological_input(hostile):
    # Guards against catastrophic backtracking: with a quadratic pattern these inputs would run
    # for hours. No wall-clock limit here (shared machines are noisy); the suite's own runtime
    # is the signal, as in test_sensitivity_report.py.
    assert scan(hostile).spans is not None
