"""Hand-written prompts that must stay on the machine, with their true categories."""

from __future__ import annotations

import random
from types import ModuleType


def build(rng: random.Random, fab: ModuleType) -> list[dict]:
    out: list[dict] = []

    def add(text: str, *categories: str, terms: tuple[str, ...] = ()) -> None:
        example: dict = {
            "text": text.strip("\n"),
            "sensitive": True,
            "categories": sorted(set(categories)),
        }
        if terms:
            example["custom_terms"] = list(terms)
        out.append(example)

    _privilege(add)
    _personal(add, rng, fab)
    _health(add, rng, fab)
    _financial(add, rng, fab)
    _secret(add, rng, fab)
    _mnpi(add)
    _custom(add)
    _mixed(add, rng, fab)
    return out


def _privilege(add) -> None:
    add("""PRIVILEGED & CONFIDENTIAL
ATTORNEY-CLIENT COMMUNICATION

Summarise the memo below in five bullet points for the partner.

The client's exposure under the 2019 supply agreement turns on whether the force majeure
clause covers port closures. We think it does not, for three reasons...""", "privilege")
    add("""Please tighten this paragraph, keep the tone formal:

ATTORNEY WORK PRODUCT - PREPARED IN ANTICIPATION OF LITIGATION
Our review of the warehouse logs suggests the shipments were rerouted after the notice
period expired, which weakens the estoppel argument considerably.""", "privilege")
    add("""Can you turn this into a cleaner draft? It's going to the GC tonight.

Privileged & Confidential — Attorney-Client Communication
Re: Potential exposure in the distributor termination
We recommend the company refrain from sending the termination letter until...""", "privilege")
    add("""ATTORNEY-CLIENT PRIVILEGED
From: outside counsel
To: board of directors
Subject: Preliminary assessment of whistleblower allegations

Rewrite the first section so a non-lawyer can follow it.""", "privilege")
    add("""Draft a one-page summary of this. Header must stay as is.
CONFIDENTIAL — DO NOT FORWARD
The settlement range authorised by the client is narrower than we told opposing counsel.""",
        "privilege")
    add("""This memorandum was prepared at the direction of counsel for the purpose of providing
legal advice. Please proofread it and flag anything ambiguous:
1. Interviews with the three line managers were conducted on 4 and 5 March.
2. None of them recalled receiving the revised safety policy.""", "privilege")
    add("""Prepared at the direction of counsel. Draft talking points for the CFO's call with the
auditors about the revenue recognition review; keep it under 200 words.""", "privilege")
    add("""Fix the grammar only:

This document is subject to NDA and must not be shared outside the deal team. The target's
churn numbers for the last two quarters are materially worse than the data room shows.""",
        "privilege")
    add("""Here's the email thread, pull out the action items:

---
PRIVILEGED AND CONFIDENTIAL
Jonas, as discussed, please hold all documents relating to the Reno facility. Do not delete
anything from the shared drive until we confirm the scope of the hold.
---""", "privilege")
    add("""Convert this to a table (issue / our position / risk):

HIGHLY CONFIDENTIAL – ATTORNEYS' EYES ONLY
Issue 1: whether the source code escrow release was triggered. Our position: no. Risk: medium.
Issue 2: royalty audit. Our position: partial overpayment. Risk: high.""", "privilege")
    add("""WITHOUT PREJUDICE SAVE AS TO COSTS

Dear Sirs,
Our client is prepared to settle the claim for the sum of £85,000 inclusive of costs.
Please make this letter sound firmer but still courteous.""", "privilege")
    add("""Summarise for the file note:
Attorney-Client Privileged / Attorney Work Product
Call with the client's head of HR. She confirmed two prior complaints against the regional
manager were closed without investigation.""", "privilege")
    add("""The footer on every page says "PRIVILEGED & CONFIDENTIAL - PREPARED AT THE REQUEST OF
COUNSEL". Can you reformat the body into numbered paragraphs? Body: The committee reviewed the
vendor payments flagged by internal audit and found that four were approved without PO.""",
        "privilege")
    add("""Translate into German, keep the legend in English:
CONFIDENTIAL ATTORNEY-CLIENT COMMUNICATION. The works council must not be informed of the
restructuring before the board approves the plan on the 14th.""", "privilege")
    add("""This email and any attachments are confidential and may be protected by legal
privilege. If you are not the intended recipient, please notify the sender.

Hi team - can someone turn the notes below into minutes?
- Agreed to extend the standstill to 30 June
- Client will not waive the limitation defence""", "privilege")
    add("""Write a polite cover email to send this to the client. The attachment is labelled
"Privileged and Confidential - Attorney Work Product" and contains our draft responses to the
regulator's information request.""", "privilege")
    add("""Shorten this: "This communication is privileged and confidential and is intended only
for the use of the addressee. Our analysis indicates the indemnity cap does not apply to the
data breach claims because the breach resulted from gross negligence." """, "privilege")
    add("""Can you check this privilege log entry for consistency?
DOC-0412 | 2024-02-11 | Email from in-house counsel to VP Operations | ATTORNEY-CLIENT
PRIVILEGED | Legal advice regarding recall notice timing""", "privilege")
    add("""ATTORNEY WORK PRODUCT
Deposition prep outline for the plant manager - turn into a Q&A script.
Topics: (1) maintenance schedule, (2) the 2022 inspection, (3) emails with the insurer.""",
        "privilege")
    add("""PRIVILEGED & CONFIDENTIAL | DRAFT FOR DISCUSSION
Board briefing: litigation hold status. Make it more concise and add a heading for each
business unit.""", "privilege")
    add("""Subject to NDA — do not share externally. I need a one-paragraph description of the
supplier's pricing model based on the notes below: tiered rebates above 40k units, 3% floor.""",
        "privilege")
    add("""Please reword the executive summary; the document is marked "Confidential - Do Not
Forward" and the tone should stay neutral. Summary: The acquisition team identified three
unresolved IP ownership gaps in the target's firmware.""", "privilege")
    add("""Here is a paragraph from our internal investigation report (Privileged & Confidential,
prepared at the direction of counsel). Simplify the language: The reviewer observed that
expense reports submitted by two directors lacked receipts for entertainment above $500.""",
        "privilege")
    add("""STRICTLY PRIVILEGED AND CONFIDENTIAL
Legal advice to the Audit Committee regarding the FCPA review. Produce a timeline from the
facts below, earliest first.""", "privilege")
    add("""Draft a reply to opposing counsel. For context, our internal note (attorney work
product) says the client would accept a 12-month non-compete but not 24.""", "privilege")
    add("""PRIVILEGED COMMUNICATION - FOR SETTLEMENT PURPOSES ONLY
Make this offer letter clearer: Our client proposes a structured payment over 18 months
conditional on mutual releases.""", "privilege")
    add("""I'm pasting a section of a memo; it's marked Attorney-Client Privileged at the top.
Tell me if the conclusion follows from the analysis.

Conclusion: the liquidated damages clause is likely unenforceable as a penalty.""",
        "privilege")
    add("""CONFIDENTIAL - SUBJECT TO NDA
Meeting notes, supplier negotiation, turn into an email to the procurement lead.""",
        "privilege")
    add("""privileged & confidential - draft
hey can you clean up these notes from the client call: they want to know if they can stop
paying the contractor while the defect dispute is open""", "privilege")
    add("""Rewrite in plain English. Legend: "Prepared by counsel in anticipation of litigation;
protected attorney work product." Text: Exposure from the class claims is estimated between
$4m and $11m depending on certification.""", "privilege")
    add("""Can you summarise the attached? (marked PRIVILEGED & CONFIDENTIAL at the top)

Our view is that the former employee's retention of the customer list breaches clause 9.
We recommend an immediate letter before action.""", "privilege")
    add("""Attorney–Client Privileged Communication (do not forward)
Please list the open questions from this memo about the employee share scheme clawback.""",
        "privilege")
    add("""Format this as a memo to file, keep the legend:
ATTORNEY-CLIENT PRIVILEGE / WORK PRODUCT
Spoke with the client's controller, who believes the Q2 accrual was overstated by design.""",
        "privilege")
    add("""Make this sound less aggressive. It's privileged and confidential, going only to
the client: "Frankly, the board's delay has cost you the best window to settle." """,
        "privilege")
    add("""CONFIDENTIAL
Internal legal review — product liability claims, EMEA. Translate the summary to French.""",
        "privilege")
    add("""We're under NDA with the vendor so keep this internal: summarise their SLA terms
into three bullets. Uptime 99.95%, credits capped at 15% of monthly fees, 4h P1 response.""",
        "privilege")
    add("""Privileged & Confidential: Prepared at the Direction of Counsel
Interview summary — witness 3. Turn these notes into a neat paragraph.""", "privilege")


def _personal(add, rng: random.Random, fab: ModuleType) -> None:
    add("""Write a short, warm follow-up email to Maria Delgado (maria.delgado@northwindbio.com)
thanking her for the call and confirming we'll send the revised SOW on Friday.""",
        "personal")
    add("""Draft a reminder text to send to my tenant: rent for unit 4B at 1187 Larchmont Avenue
is five days late. His number is (312) 555-0147.""", "personal")
    add(f"""Fill in this onboarding form letter for our new hire:
Name: Tomasz Wierzbicki
DOB: 14/03/1988
SSN: {fab.ssn(rng)}
Address: 42 Kensington Gardens Road, Leeds""", "personal")
    add("""Hi, can you help me write a complaint letter to my bank? My details: Priya Raman,
78 Elmwood Drive, Columbus, OH 43215, phone 614-555-0193. They charged me twice for the same
transfer.""", "personal")
    add(f"""Please write a cover letter for a UK visa application. Applicant: Oluwaseun Adeyemi,
National Insurance number {fab.uk_ni(rng)}, date of birth 2 July 1991.""", "personal")
    add("""Turn this into a contact card vCard:
Hannah Lindqvist, Senior Counsel
hannah.lindqvist@calderquinn.se
+46 70 123 45 67""", "personal")
    add(f"""My Canadian SIN is {fab.canadian_sin(rng)} and I need to fill out a T4 correction
request. Can you tell me which box to correct for employment income?""", "personal")
    add("""Make this bio sound more professional: Greg Whitfield was born on March 3, 1979 in
Dayton and has worked as a paralegal for 15 years. Reach him at greg.whitfield@outlook.com.""",
        "personal")
    add("""Can you reply to this customer? "Hi, I ordered a blender but it arrived broken. Please
send the replacement to Aoife Brennan, 17 Ashgrove Lane, Dublin. Phone +353 87 555 0142." """,
        "personal")
    add(f"""Write a letter to the IRS asking for a payment plan. Taxpayer: Kenji Watanabe,
SSN {fab.ssn(rng)}, 2261 Juniper Court, Sacramento, CA 95814.""", "personal")
    add("""Please proofread my CV header:
Sofia Rossi | sofia.rossi.dev@gmail.com | +39 347 555 0199 | Via Garibaldi 12, Torino""",
        "personal")
    add("""Schedule a call with Dmitri: his mobile is +7 916 555-01-23 and he's free after 6pm
Moscow time. Write the calendar invite text.""", "personal")
    add("""Write a note for the school: my son Liam O'Connor (DOB 09/22/2015) will miss class on
Thursday for a dental appointment.""", "personal")
    add("""Translate to French: "Please ship the documents to Chloé Dubois, 8 rue des Lilas,
69003 Lyon. Her number is 06 12 34 56 78." """, "personal")
    add("""Here's a lead list, dedupe it and sort by surname:
Björn Nyström, bjorn.nystrom@kestrelaero.com
Zoë Kowalczyk, zoe.k@bramblecote.co.uk
Fatima Al-Sayed, f.alsayed@vantablue.com
Björn Nyström, bjorn.nystrom@kestrelaero.com""", "personal")
    add(f"""I'm helping my mum with her pension form. Her NI number is {fab.uk_ni(rng)}, born
12 November 1956. What does section 4 'contracted out' mean?""", "personal")
    add("""Call notes — please tidy: Spoke to Mr. Ahmed Farouk at 020 7946 0321 about the
boundary dispute; he says the fence was moved in 2018.""", "personal")
    add(f"""Write a reference letter. Candidate: Rachel Kim, SSN {fab.ssn(rng)} (HR needs it on
file), worked for us from 2019 to 2024 as a data analyst.""", "personal")
    add("""Draft an email to our landlord at 5500 Wilshire Boulevard, Los Angeles, CA 90036
asking for the deposit back. My name is Daniel Ortega and my phone is 323.555.0178.""",
        "personal")
    add("""Summarise this intake form:
Client: Elena Petrova
Date of birth: 1984-06-30
Email: elena.petrova84@proton.me
Passport no: 753186420
Reason: residency permit renewal""", "personal")
    add("""Can you make this WhatsApp message friendlier? "Priyanka, it's Raj. Call me on
+91 98765 43210 when you land, I'll pick you up at T2." """, "personal")
    add("""Help me fill this UK housing form: full name James Thornton, address 14 Abbey Road,
London NW8 9AY, mobile 07700 900461.""", "personal")
    add("""Write a LinkedIn recommendation for Marcus Feld. Private note for you: his personal
email is marcus.feld@fastmail.com if you need to cc him, don't put it in the text.""",
        "personal")
    add("""I got a voicemail from +1 646 555 0112 claiming to be from my insurer. Write a reply
SMS asking them to email me at tom.becker77@yahoo.com instead.""", "personal")
    add(f"""Check this W-9 data for typos before I send it: Name: Angela Moreno,
TIN: {fab.ssn(rng)}, Address: 901 Cedar Street, Austin, TX 78701.""", "personal")
    add("""Our new client is Hiroshi Tanaka, born 1972-11-05, residing at 3-14 Shibuya Place,
Tokyo. Draft the engagement letter greeting paragraph.""", "personal")
    add("""Please format this for the conference badge printer:
Lena Hoffmann; lena.hoffmann@hoffmann-partner.de; +49 30 5557 1234""", "personal")
    add(f"""Write a short note to payroll: employee Ana Souza's SIN was entered wrong, the correct
one is {fab.canadian_sin(rng)}.""", "personal")
    add("""Proofread: "Dear Ms. Brennan, we have updated your mailing address to PO Box 4471,
Galway, and your contact number to +353 91 555 018." """, "personal")
    add("""Write a birthday message for my colleague Nadia; for the HR system her birth date is
21/04/1990 and she prefers to be contacted at nadia.haddad@gmail.com.""", "personal")
    add("""Compose a tenancy reference for Oliver Grant who lived at 33 Willow Crescent,
Bristol BS8 1TH from 2020 to 2024. Contact: oliver.grant.bristol@gmail.com.""", "personal")
    add("""My daughter lost her passport (number X4821973) in Lisbon. Draft an email to the
embassy explaining what happened and asking for an emergency travel document.""", "personal")
    add(f"""The background check vendor needs this resent in a table: Michael Chen,
SSN {fab.ssn(rng)}, DOB 07/19/1986, current address 410 Birch Street, Denver, CO 80203.""",
        "personal")


def _health(add, rng: random.Random, fab: ModuleType) -> None:
    add("""Rewrite this clinic note in plain language for the patient letter:
Patient: Maria Gonzalez, MRN 00482913
Dx: Type 2 diabetes mellitus without complications (E11.9). Continue metformin 500 mg BID,
recheck A1c in 3 months.""", "health")
    add("""Summarise the discharge summary for the GP:
Mr. Peter Hollis, 67, admitted 3/2 with community-acquired pneumonia, treated with
ceftriaxone and azithromycin, discharged on day 5. Follow-up chest x-ray in 6 weeks.""",
        "health")
    add(f"""Fix the formatting of this referral letter:
Referring provider NPI: {fab.npi(rng)}
Patient: Denise Carver
Reason for referral: suspected rheumatoid arthritis, positive anti-CCP""", "health")
    add("""Medical record number: A7730192. 45-year-old female presenting with chest pain
radiating to the left arm. Troponin negative x2. Write the SOAP note assessment section.""",
        "health")
    add("""Please draft a prior authorization letter for my patient John Abernathy, diagnosed
with relapsing-remitting multiple sclerosis (G35), requesting coverage for ocrelizumab.""",
        "health")
    add("""Our client Ms. Evelyn Shaw was prescribed oxycodone 10 mg after the collision and is
still in physical therapy. Draft the damages paragraph for the demand letter.""",
        "health")
    add("""Turn into a handoff note: Pt Robert Li, MRN 7719-204, POD 2 after lap chole, pain
controlled, tolerating diet, plan discharge tomorrow.""", "health")
    add(f"""Billing asked for this in CSV: patient Sandra Okafor, ICD-10 F33.1, CPT 90837,
rendering NPI {fab.npi(rng)}, date of service 2024-05-14.""", "health")
    add("""Write an empathetic message to Mrs. Janet Pruitt explaining that her biopsy results
show stage II invasive ductal carcinoma and that the oncology team will call her Monday.""",
        "health")
    add("""Help me write an email to my son's school nurse: Ethan Morales (DOB 02/11/2014) has a
severe peanut allergy and carries an EpiPen; please update his care plan.""",
        "health", "personal")
    add("""Clean up this triage note: Name: Samuel Osei. HIV positive on Biktarvy, CD4 520,
viral load undetectable. Presents with 3 days of fever.""", "health")
    add("""Convert to a table: MRN 55120983 - Linda Park - Dx: major depressive disorder,
recurrent, moderate - sertraline 100 mg daily - next review 12 weeks.""", "health")
    add("""Draft a return-to-work letter for employee Carlos Mendez: he was treated for a
lumbar disc herniation (M51.26) and may not lift more than 10 kg for 6 weeks.""", "health")
    add("""Patient name: Grace Whitmore
Chart #: 30055721
History of bipolar I disorder, currently stable on lithium 600 mg. Summarise for the
psychiatry referral.""", "health")
    add(f"""NHS number 943 476 5919 belongs to Mrs. Iris Campbell; she was seen in A&E for a
fractured wrist. Draft the clinic letter. (Provider NPI {fab.npi(rng)} for the US insurer.)""",
        "health")
    add("""Write a plain-English explanation for Mr. Thomas Reid of his lab results: HbA1c
8.9%, LDL 4.1 mmol/L, eGFR 52. He was diagnosed with CKD stage 3a last year.""", "health")
    add("""Insurance appeal: our member Keisha Brown, member ID MBR-88217734, was denied coverage
for her insulin pump. Diagnosis: type 1 diabetes since age 9. Draft the appeal letter.""",
        "health")
    add("""Please restructure this psychotherapy progress note, client Daniel Frost, session 14:
discussed panic attacks at work, started CBT exposure hierarchy, continue escitalopram.""",
        "health")
    add("""Ms. Alicia Grant (MRN 00917264), 32 weeks pregnant, gestational hypertension, BP
148/96. Draft the obstetric consult request.""", "health")
    add("""Summarise for the claims adjuster: claimant Victor Hale, diagnosed with PTSD (F43.10)
after the warehouse fire, treated with prazosin and weekly therapy.""", "health")


def _financial(add, rng: random.Random, fab: ModuleType) -> None:
    visa = fab.card(rng, "visa")
    add(f"""Can you check why this payment failed? Card {fab.group_card(visa)}, exp 08/27,
amount $1,240.00, merchant says 'do not honor'.""", "financial")
    add(f"""Write an email to accounts payable with our bank details for the invoice:
IBAN: {fab.paper_iban(fab.iban(rng, "DE"))}
BIC: COBADEFFXXX
Reference: INV-2024-0193""", "financial")
    add(f"""Wire instructions for the closing, please format nicely:
Bank: First Harbor Bank
ABA routing number: {fab.aba_routing(rng)}
Account number: 004417729381
Beneficiary: Harrow & Pike LLP IOLTA""", "financial")
    add(f"""My Amex {fab.group_card(fab.card(rng, "amex"))} was charged twice by the hotel.
Draft a dispute letter.""", "financial")
    add(f"""Pay the supplier: {fab.iban(rng, "GB")}, amount GBP 14,200, reference PO-77812.
Write the payment confirmation email.""", "financial")
    add(f"""Here is a line from the CSV that breaks our importer:
2024-03-18,ACME SUPPLIES,{fab.card(rng, "mastercard")},149.99,APPROVED
Why would the parser choke on it?""", "financial")
    add(f"""Translate into Spanish: "Please transfer the deposit to IBAN
{fab.paper_iban(fab.iban(rng, "ES"))} before Friday." """, "financial")
    add(f"""Draft an ACH authorization form for the client. Routing: {fab.aba_routing(rng)},
account: 8820194471, account type checking.""", "financial")
    add(f"""I need to update my direct deposit. New bank routing number {fab.aba_routing(rng)}
and account number 1029384756. Write a short note to HR.""", "financial")
    add(f"""Customer says their card {fab.group_card(fab.card(rng, "discover"), "-")} was
declined at checkout three times. Write a support reply.""", "financial")
    add(f"""Please reconcile: transfer of EUR 3,500 from {fab.iban(rng, "FR")} to
{fab.iban(rng, "NL")} on 12 May is missing from the ledger.""", "financial")
    add(f"""Format as a table: Visa ending 4412 - fine. Mastercard {fab.card(rng, "mastercard")}
- expired. JCB {fab.group_card(fab.card(rng, "jcb"))} - active.""", "financial")
    add(f"""Write a polite reminder to the tenant. Rent goes to IBAN
{fab.paper_iban(fab.iban(rng, "IT"))} (Banca Sella), due on the 5th.""", "financial")
    add(f"""Test payments keep failing in staging with card number {fab.card(rng, "visa")}. Is
it because the CVV is missing?""", "financial")
    add(f"""Our Swiss entity's account: {fab.paper_iban(fab.iban(rng, "CH"))}. Draft the letter
to the auditors confirming the balance as at 31 December.""", "financial")
    add(f"""Summarise this chat with the bank: they said my account number 55-0198-2231 was
frozen because of a suspicious wire; routing number {fab.aba_routing(rng)}.""", "financial")
    add(f"""Can you write the refund email? Refund goes to the original card,
{fab.group_card(fab.card(rng, "diners"))}, within 5-7 business days.""", "financial")
    add(f"""Polish this invoice footer:
Payment by bank transfer to {fab.paper_iban(fab.iban(rng, "IE"))}, BIC BOFIIE2D.
Late payments incur interest at 8% over base.""", "financial")
    add(f"""The escrow agent asked for the wire details again. Routing {fab.aba_routing(rng)},
acct no. 7730019922. Write a brief cover note.""", "financial")
    add(f"""Write a note to my accountant: the donation was paid with my Visa
{fab.group_card(fab.card(rng, "visa"), "-")} in March, can it be deducted?""", "financial")
    add(f"""Please check: IBAN {fab.iban(rng, "PL")} — is this the right format for a Polish
account? I'm sending my sister money.""", "financial")
    add(f"""Debug this: the regex accepts '{fab.card(rng, "unionpay")}' as UnionPay but our
processor rejects it. Customer is waiting.""", "financial")
    add(f"""Draft a standing order instruction: pay GBP 650 monthly from sort code 20-45-77
account 43981276 to {fab.paper_iban(fab.iban(rng, "GB"))}.""", "financial")
    add(f"""Rewrite for the client: funds will be returned to your Austrian account
{fab.paper_iban(fab.iban(rng, "AT"))} within three working days.""", "financial")
    add(f"""Our Norwegian supplier's IBAN is {fab.iban(rng, "NO")}; write the vendor setup
request for finance.""", "financial")
    add(f"""Payroll file row fails validation, help me see why:
EMP0042;Jensen;{fab.iban(rng, "DK")};28500.00;DKK""", "financial")
    add(f"""Summarise the fraud report: card {fab.card(rng, "amex")} used in three countries
within an hour; account holder unreachable.""", "financial")
    add(f"""Send the Belgian client our account: {fab.paper_iban(fab.iban(rng, "BE"))}. Make the
email bilingual EN/FR.""", "financial")


def _secret(add, rng: random.Random, fab: ModuleType) -> None:
    add(f"""Why does this return 401?

import openai
client = openai.OpenAI(api_key="{fab.openai_key(rng)}")
client.models.list()""", "secret")
    add(f"""My Claude integration fails with 'invalid x-api-key'. Key is
{fab.anthropic_key(rng)} — is the format wrong?""", "secret")
    add(f"""Help me fix this ~/.aws/credentials, the CLI says InvalidClientTokenId:

[default]
aws_access_key_id = {fab.aws_access_key_id(rng)}
aws_secret_access_key = {fab.aws_secret_key(rng)}
region = eu-west-1""", "secret")
    add(f"""git push keeps asking for a password even though I set
GITHUB_TOKEN={fab.github_token(rng)} in my shell. What am I missing?""", "secret")
    add(f"""Our Slack bot posts twice. Config:
SLACK_BOT_TOKEN={fab.slack_token(rng)}
SLACK_CHANNEL=#deploys
Why would events be delivered twice?""", "secret")
    add(f"""Maps widget shows 'For development purposes only'. I use
<script src="https://maps.googleapis.com/maps/api/js?key={fab.google_api_key(rng)}"></script>
What billing setting is missing?""", "secret")
    add(f"""Stripe webhook verification fails. stripe.api_key = "{fab.stripe_live_key(rng)}" and
the endpoint secret is set. What else can cause a signature mismatch?""", "secret")
    add(f"""Decode this token and tell me when it expires:
{fab.jwt(rng)}""", "secret")
    add(f"""ssh refuses my key with 'invalid format'. Here it is:

{fab.pem_private_key(rng)}""", "secret")
    add(f"""SQLAlchemy can't connect:
engine = create_engine("postgresql://app_user:{fab.password(rng)}@db.internal.lan:5432/orders")
OperationalError: could not translate host name""", "secret")
    add(f"""docker-compose up fails on the db service:

services:
  db:
    image: mysql:8
    environment:
      MYSQL_ROOT_PASSWORD: {fab.password(rng)}
      MYSQL_DATABASE: shop""", "secret")
    add(f"""Is this .env fine for production?
DEBUG=false
DATABASE_URL=mysql://shop:{fab.password(rng)}@10.0.4.12/shop
SECRET_KEY={fab.token(rng, 50)}""", "secret")
    add(f"""Fine-grained PAT not working for the org repo:
{fab.github_fine_grained(rng)}
Which permission do I need for contents:write?""", "secret")
    add(f"""boto3 says the security token is invalid:
session = boto3.Session(aws_access_key_id="{fab.aws_access_key_id(rng, "ASIA")}",
    aws_secret_access_key="{fab.aws_secret_key(rng)}", aws_session_token=tok)""", "secret")
    add(f"""Redis keeps rejecting auth: redis://default:{fab.password(rng)}@cache-01:6379/0 — what's
the difference between requirepass and ACL users?""", "secret")
    add(f"""Convert this curl to Python requests:
curl https://api.openai.com/v1/chat/completions -H "Authorization: Bearer {fab.openai_key(rng)}"
 -d '{{"model": "gpt-4o-mini", "messages": []}}'""", "secret")
    add(f"""My Jenkins job prints the password in logs, how do I mask it?
sh 'mvn deploy -Drepo.password={fab.password(rng)}'""", "secret")
    add(f"""Write a GitHub Actions step that uses this deploy key:

{fab.pem_private_key(rng, "OPENSSH PRIVATE KEY")}""", "secret")
    add(f"""Spring Boot config, why isn't the datasource picked up?
spring.datasource.url=jdbc:postgresql://pg.prod:5432/billing
spring.datasource.username=billing
spring.datasource.password={fab.password(rng)}""", "secret")
    add(f"""I accidentally pasted my key in a public gist: {fab.anthropic_key(rng)}
What should I do now?""", "secret")
    add(f"""Our mobile app hardcodes this: const API_KEY = "{fab.google_api_key(rng)}"; how
do we restrict it to our Android package name?""", "secret")
    add(f"""Is this the right header? Authorization: Bearer {fab.jwt(rng)}
The API returns 403 for the admin route.""", "secret")
    add(f"""MongoDB Atlas connection string isn't working:
mongodb+srv://analytics:{fab.password(rng)}@cluster0.ab1cd.mongodb.net/reports?retryWrites=true
Error: bad auth""", "secret")
    add(f"""Python script for the cron job, please add retries:

import smtplib
server = smtplib.SMTP("smtp.office365.com", 587)
server.starttls()
server.login("reports@harrowpike.com", "{fab.password(rng)}")""", "secret")
    add(f"""terraform plan fails: provider "aws" {{ access_key = "{fab.aws_access_key_id(rng)}"
secret_key = "{fab.aws_secret_key(rng)}" }}. Is hardcoding them the problem?""", "secret")
    add(f"""Can you write a bash one-liner that calls the Slack API with my user token
{fab.slack_token(rng).replace("xoxb-", "xoxp-")} to list channels?""", "secret")
    add(f"""kubectl create secret fails with this manifest, what's wrong with the indentation?
apiVersion: v1
kind: Secret
stringData:
  password: {fab.password(rng)}
  username: svc-ledger""", "secret")
    add(f"""Why do I get 'invalid_api_key'? openai.api_key = '{fab.openai_key(rng)}'""",
        "secret")
    add(f"""The VPN config has this block, can I share it with the contractor?

{fab.pem_private_key(rng, "EC PRIVATE KEY")}""", "secret")
    add(f"""Rotate this for me or tell me how: ghp token {fab.github_token(rng)} was in our
README for two days.""", "secret")
    add(f"""amqp://orders:{fab.password(rng)}@rabbit.prod.internal:5672/ — the consumer can't
connect after the upgrade, what changed in RabbitMQ 3.13 auth?""", "secret")
    add(f"""Our Stripe restricted key rk_live_{fab.token(rng, 24)} can't list charges. Which
permission is missing?""", "secret")


def _mnpi(add) -> None:
    add("""Draft the press release for Thursday. Q3 revenue came in at $412M, 18% above
consensus — this is not yet public, so keep the draft in this chat only.""", "mnpi")
    add("""We're in merger talks with Halcyon Freight; write a one-page internal FAQ for the
executive team about what they can say to employees.""", "mnpi")
    add("""Prepare talking points for the board: earnings ahead of release show a $30M
impairment on the Brazil unit. The announcement is scheduled for the 28th.""", "mnpi")
    add("""This is under embargo until 9am ET Monday: the FDA approved our lead candidate.
Write the investor relations email.""", "mnpi")
    add("""Before the announcement goes out, I need a short memo to the trading desk explaining
that the acquisition of Orbis Labs at $42/share will be announced next week.""", "mnpi")
    add("""Summarise for the deal team: Kestrel's CFO said on our call that Q4 guidance will be
cut by 15%. That hasn't been announced yet.""", "mnpi")
    add("""My brother-in-law works at Vantablue and says they're about to be acquired by a PE
firm, the deal isn't public yet. Draft a text asking him for the timeline.""", "mnpi")
    add("""Compose the embargoed announcement: Bramblecote Holdings to divest its shipping
arm for £1.2bn. Embargoed until 07:00 GMT on 3 June.""", "mnpi")
    add("""Rewrite this Slack message more carefully: "guys the merger talks with Northwind are
basically done, don't tell anyone and don't trade." """, "mnpi")
    add("""Draft an email to the audit committee: preliminary Q2 results (not yet public) show
a 22% decline in same-store sales.""", "mnpi")
    add("""I'm an insider at Corvid Systems and the takeover offer from Helix lands next
Monday. Help me write the internal communications plan.""", "mnpi")
    add("""As discussed in our acquisition talks, the target's board will accept $18.50 per
share. Summarise the key terms for our investment committee.""", "mnpi")
    add("""Please write the script for the all-hands ahead of the announcement — we're
announcing the layoffs and the restructuring with the earnings release on the 12th.""",
        "mnpi")
    add("""Investor deck, slide 4: make the bullets punchier. Note: these figures are
non-public until the 10-Q is filed — revenue $88.2M, EBITDA margin 14.1%.""", "mnpi")
    add("""Our client is in advanced buyout talks with Stratos Capital; the information is
material and nonpublic. Draft an insider list memo.""", "mnpi")
    add("""Write a holding statement in case the news leaks before the public announcement of
the Meridian deal on Friday.""", "mnpi")
    add("""Can you make the tone calmer? "Team — earnings are embargoed until Tuesday's call,
but the number is ugly: we missed by 11 cents." """, "mnpi")
    add("""Help me draft a note to compliance: I received material non-public information
about the Tessellate spin-off during yesterday's call and need to be walled off.""", "mnpi")


def _custom(add) -> None:
    add("""Summarise the current status of the Bramblecote matter for my weekly report: we've
filed the reply and are waiting for the hearing date.""", "custom", terms=("Bramblecote",))
    add("""Draft an update email about Project Halyard: diligence is 70% complete and the
financial model is being revised.""", "custom", terms=("Project Halyard", "Juniper"))
    add("""What should the agenda be for tomorrow's Juniper steering committee? Keep it to five
items.""", "custom", terms=("Project Halyard", "Juniper"))
    add("""Write a short internal note: the kestrel aerospace file needs a conflicts check
before we open a new matter.""", "custom", terms=("Kestrel Aerospace",))
    add("""Draft a bullet list of next steps for NORTHWIND BIOLOGICS v. Castellan: serve the
expert reports, fix the deposition calendar.""", "custom", terms=("Northwind Biologics",))
    add("""Can you outline a timeline for the Müller-Straße acquisition closing? We expect
signing in April.""", "custom", terms=("Müller-Straße",))
    add("""Prepare an agenda for the Société Générale de Transports kickoff call.""",
        "custom", terms=("Société Générale de Transports",))
    add("""Make a checklist for the matter 2024-0173 file closure: return originals, final
invoice, archive emails.""", "custom", terms=("2024-0173",))
    add("""Please rephrase: "Zoë from the Ōkami team wants the revised budget by Monday." """,
        "custom", terms=("Ōkami",))
    add("""Write a status paragraph for the Vantablue Foods recall review: sampling plan
approved, lab results due next week.""", "custom", terms=("Vantablue",))
    add("""Brainstorm names for the integration workstream of Operation Bluebird.""",
        "custom", terms=("Operation Bluebird",))
    add("""What are the standard closing deliverables? Asking for the Castellan deal.""",
        "custom", terms=("castellan",))
    add("""Draft an out-of-office reply mentioning that urgent Harrow matters go to Priyanka.""",
        "custom", terms=("Harrow",))
    add("""Translate into Japanese for the 北斗 project team: the kickoff moves to Thursday.""",
        "custom", terms=("北斗",))


def _mixed(add, rng: random.Random, fab: ModuleType) -> None:
    add(f"""PRIVILEGED & CONFIDENTIAL
Client: Northwind Biologics. Settlement payment to be wired to
{fab.paper_iban(fab.iban(rng, "DE"))}. Draft the cover letter to opposing counsel.""",
        "privilege", "financial", "custom", terms=("Northwind Biologics",))
    add(f"""Attorney-client privileged. Our client Dana Whitcombe (dana.whitcombe@gmail.com,
SSN {fab.ssn(rng)}) wants to know whether the severance is taxable. Draft the advice email.""",
        "privilege", "personal")
    add(f"""Debug the onboarding script: it posts the new hire's card {fab.card(rng, "visa")}
to our Slack with token {fab.slack_token(rng)}. Obviously we need to stop that too.""",
        "financial", "secret")
    add("""ATTORNEY WORK PRODUCT. Medical chronology for plaintiff Raymond Fisk, MRN 66019284:
fractured L1 vertebra, spinal fusion on 04/02, prescribed gabapentin 300 mg TID.""",
        "privilege", "health")
    add("""Confidential, not yet public: Project Halyard (the Orbis Labs acquisition) signs on
Friday. Email the deal team at halyard-team@harrowpike.com with the closing checklist.""",
        "mnpi", "custom", "personal", terms=("Project Halyard",))
    add(f"""Draft an internal email: the DB for the Kestrel Aerospace matter is at
postgres://kestrel_ro:{fab.password(rng)}@10.20.0.7:5432/review — paralegals should use read
only access.""", "secret", "custom", terms=("Kestrel Aerospace",))
    add(f"""Summarise the fraud investigation note (privileged & confidential): the former
employee, Gavin Royce, born 1983-02-17, used card {fab.group_card(fab.card(rng, "mastercard"))}
for personal purchases.""", "privilege", "personal", "financial")
    add(f"""Create a patient billing letter: Ms. Helena Sato, MRN 00721458, balance $420 due,
pay by card or to IBAN {fab.paper_iban(fab.iban(rng, "GB"))}.""", "health", "financial")
