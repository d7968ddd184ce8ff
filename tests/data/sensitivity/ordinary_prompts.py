"""Hand-written prompts that may go to the cloud, including deliberate hard negatives."""

from __future__ import annotations

import random
from types import ModuleType


def build(rng: random.Random, fab: ModuleType) -> list[dict]:
    out: list[dict] = []

    def add(text: str, terms: tuple[str, ...] = ()) -> None:
        example: dict = {"text": text.strip("\n"), "sensitive": False, "categories": []}
        if terms:
            example["custom_terms"] = list(terms)
        out.append(example)

    _coding(add)
    _everyday(add)
    _general_legal(add)
    _general_health(add)
    _general_finance(add)
    _hard_negatives(add, rng, fab)
    return out


def _coding(add) -> None:
    for text in [
        "Write a Python function that checks whether a string is a palindrome, ignoring case.",
        "What's the difference between a list and a tuple in Python?",
        "How do I reverse a linked list in place in C? Please explain the pointer updates.",
        "Write a regex that matches email addresses, and explain each part of it.",
        "How does the Luhn algorithm work? Show a worked example with a made-up number.",
        "Explain how IBAN validation with mod 97 works, step by step.",
        "Write a SQL query that returns the top 5 customers by total order value.",
        "Why does my React component re-render every time the parent state changes?",
        "Convert this bash loop to Python: for f in *.csv; do wc -l $f; done",
        "What does `git rebase -i HEAD~3` do, and how do I squash commits with it?",
        "Explain the difference between TCP and UDP with a practical example.",
        "How do I read an environment variable in Rust and fall back to a default?",
        "Write unit tests for a function that parses ISO 8601 durations like PT1H30M.",
        "What is a JWT and why shouldn't I store sensitive data in its payload?",
        "How should I store API keys in a desktop app? Compare keyring and env variables.",
        "My Dockerfile builds slowly. How do I order layers to use the cache better?",
        "Explain big-O of binary search and why it needs a sorted array.",
        "Write a TypeScript type for a function that takes a callback with two arguments.",
        "How do I set up pre-commit with ruff and black?",
        "What's the safest way to hash passwords in Node.js in 2024?",
        "Write a Go HTTP handler that returns JSON with status 201.",
        "How can I profile memory usage of a Python script?",
        "Explain what a race condition is using a bank account example.",
        "Give me a bash command to find the 10 largest files under the current directory.",
        "Why does `0.1 + 0.2 != 0.3` in JavaScript?",
        "How do I paginate results from a REST API that uses cursor-based pagination?",
        "Write a Kotlin data class for a user with name, email and optional phone number.",
        "What is the difference between authentication and authorization?",
        "How do I configure nginx as a reverse proxy for a Flask app on port 5000?",
        "Explain Python's GIL and when multiprocessing helps.",
    ]:
        add(text)
    add("""This code says 'KeyError: password' — what's wrong?

import os
db_password = os.environ["DB_PASSWORD"]
conn = psycopg2.connect(host="localhost", user="app", password=db_password)""")
    add("""Is this a reasonable pattern for config?

class Settings(BaseSettings):
    database_url: str
    password: str = Field(..., env="APP_PASSWORD")
    api_key: SecretStr""")
    add("""The docs say to connect with postgres://user:password@localhost:5432/mydb but I get
'role user does not exist'. How do I create the role?""")
    add("""How do I pass my OpenAI key without hardcoding it? Right now I do
client = OpenAI(api_key=os.getenv("OPENAI_API_KEY")).""")
    add("""In the AWS docs they use AKIAIOSFODNN7EXAMPLE and
wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY. Where do I put my own keys for the CLI?""")
    add("""My GitHub Actions workflow uses password: ${{ secrets.REGISTRY_PASSWORD }} — why is it
empty in pull requests from forks?""")
    add("""Write a function `mask_key(key: str) -> str` that turns "sk-..." style keys into
"sk-****abcd" keeping only the last four characters.""")
    add("""What is the format of an Anthropic API key? I just want to validate that the user
pasted something that starts with sk-ant- before saving it to the keyring.""")
    add("""How do I generate an RSA key pair with openssl and print only the public key? I
expect output starting with -----BEGIN PUBLIC KEY-----.""")
    add("""This certificate chain fails verification, what does the error mean?
-----BEGIN CERTIFICATE-----
(truncated)
-----END CERTIFICATE-----
error 20 at 0 depth lookup: unable to get local issuer certificate""")
    add("""Why does my login form accept password=undefined when the field is empty?""")
    add("""Set an env var in a Makefile: export API_KEY ?= changeme — is `?=` right here?""")
    add("""Here's my YAML, why does the parser complain?
database:
  host: localhost
  port: 5432
  password: ${DB_PASSWORD}""")
    add("""Explain this log line: 2024-06-01T12:03:44.120Z INFO request_id=7f3a9c21 status=200
duration_ms=182 path=/api/v2/orders""")
    add("""How do I fix 'ModuleNotFoundError: No module named numpy' after upgrading to
Python 3.12.1 on macOS 14.4?""")
    add("""Compare version 2.31.0 of requests with 2.32.3 — were there breaking changes?""")
    add("""Write a function that validates credit card numbers using Luhn. Test it on
4111 1111 1111 1111 and on a number that should fail.""")
    add("""In Stripe test mode, use the card 4242 4242 4242 4242 with any future date. Why does
my checkout still show 'card declined'?""")
    add("""What does this SQL error mean: ERROR 1045 (28000): Access denied for user
'root'@'localhost' (using password: YES)""")
    add("""Regex question: I need to match phone numbers like (555) 123-4567 and 555.123.4567 but
not dates. Can you write it?""")
    add("""Here's my git log, help me write release notes:
a1b2c3d fix: handle empty cart
9f8e7d6 feat: add coupon codes
4c5d6e7 chore: bump deps to 3.4.1""")
    add("""Why is this UUID invalid? 550e8400-e29b-41d4-a716-44665544000""")
    add("""How do I convert the hex color #3A7BD5 to RGB in JavaScript?""")
    add("""Explain what a token bucket rate limiter does; our token refresh every 60 s.""")
    add("""Benchmark results: p50 12.4 ms, p95 48.9 ms, p99 120.3 ms at 2,500 rps. Is the tail
latency bad?""")


def _everyday(add) -> None:
    for text in [
        "Give me a recipe for a vegetarian lasagna that serves six.",
        "What can I cook with chickpeas, spinach and coconut milk?",
        "Plan a 5-day itinerary for Lisbon in October, mid-range budget.",
        "How do I get from Heathrow to Paddington at 6am on a Sunday?",
        "Write a limerick about a cat who loves cardboard boxes.",
        "What are good exercises for lower back pain when sitting all day?",
        "Suggest ten names for a sourdough bakery.",
        "How long should I boil an egg for a jammy yolk?",
        "Translate 'Where is the train station?' into Italian and Portuguese.",
        "What is the capital of Mongolia and what's the best time to visit?",
        "Help me write a toast for my sister's wedding, funny but kind.",
        "What's a good beginner weekly running plan for a 10k in 8 weeks?",
        "Explain how compound interest works to a 12-year-old.",
        "Write a haiku about autumn rain.",
        "What houseplants are safe for cats?",
        "Recommend five sci-fi novels similar to The Left Hand of Darkness.",
        "How do I remove a red wine stain from a wool carpet?",
        "What's the difference between baking soda and baking powder?",
        "Suggest a packing list for a week of hiking in the Dolomites.",
        "Summarise the plot of Hamlet in five sentences.",
        "How do solar panels work?",
        "Write a friendly Slack message reminding the team about Friday's lunch.",
        "What should I look for when buying a used bicycle?",
        "Give me a 30-minute full-body workout with no equipment.",
        "Draft a polite email declining a meeting invitation because of a schedule conflict.",
        "How many grams are in a cup of flour?",
        "What are the rules of pickleball?",
        "Explain the difference between weather and climate.",
        "Write a short bedtime story about a dragon who is afraid of the dark.",
        "Is it better to book flights on Tuesdays? Myth or fact?",
        "How do I politely ask my neighbour to turn down music after 11pm?",
        "Plan a birthday party for a 7-year-old who loves dinosaurs.",
        "Convert 350 degrees Fahrenheit to Celsius.",
        "What's the best way to learn Spanish in six months?",
        "Recommend a weekend itinerary in Kyoto for someone who likes gardens.",
        "Write product copy for a handmade ceramic mug, 60 words.",
        "Give me a meal prep plan for a week of high-protein lunches.",
        "What is the train schedule usually like between Zurich and Milan?",
        "My flight is at 07:45 from Gate 23; how early should I get to the airport?",
        "Write a cover letter opening line for a junior data analyst role.",
    ]:
        add(text)
    add("""Our team offsite is 14-16 May in Porto. Suggest an agenda with two workshops and a
dinner on the second night.""")
    add("""The recipe says bake at 180 C for 25-30 minutes, but mine is raw in the middle at
30. Should I lower the temperature?""")
    add("""I'm staying near the Eiffel Tower for 3 nights. Which museums can I walk to?""")
    add("""Can you draft a newsletter intro for our running club? Next race is the 10k on
June 9th, registration closes May 31.""")
    add("""Help me write a review of the restaurant we went to on 12/03/2024; the pasta was
great but service was slow.""")


def _general_legal(add) -> None:
    for text in [
        "What is attorney-client privilege and when does it apply?",
        "Explain the work product doctrine in US civil litigation.",
        "What's the difference between privileged and confidential information?",
        "Can attorney-client privilege be waived by sharing an email with a third party?",
        "What does ABA Formal Opinion 512 say about lawyers using generative AI?",
        "Explain GDPR's lawful bases for processing personal data.",
        "What is a data processing agreement and when do I need one under GDPR?",
        "How does the crime-fraud exception to privilege work?",
        "Summarise the key elements of a valid contract under English law.",
        "What is the difference between a mutual and a one-way NDA?",
        "Draft a template NDA clause defining 'Confidential Information'.",
        "What should a privilege log contain, in general terms?",
        "Explain what 'without prejudice' means in UK settlement negotiations.",
        "What are the elements of negligence in tort law?",
        "How long is the statute of limitations for breach of contract in California?",
        "What does 'attorneys' eyes only' mean in a protective order?",
        "Explain the difference between a subpoena and a court order.",
        "What rights does a data subject have under Article 15 GDPR?",
        "How does the CCPA differ from GDPR on opt-out rights?",
        "What is a litigation hold and what should it cover?",
        "Explain the common interest doctrine in simple terms.",
        "What is insider trading and why is it illegal?",
        "What counts as material non-public information under SEC rules?",
        "Explain Rule 10b5-1 trading plans.",
        "What is a quiet period before an IPO?",
        "Can you explain what 'privileged & confidential' on an email footer actually protects?",
        "How do courts decide whether a document was prepared in anticipation of litigation?",
        "Give me a checklist for reviewing a commercial lease.",
        "What are typical indemnity clauses in SaaS contracts?",
        "Explain the difference between arbitration and mediation.",
    ]:
        add(text)
    add("""I'm writing a training module for junior associates. Explain, with made-up examples,
when a document should be stamped 'Attorney Work Product' and when it shouldn't.""")
    add("""What's the right way to label drafts shared with in-house counsel? Is a generic
confidentiality footer enough to keep privilege?""")
    add("""Is it insider trading if I buy shares in a company after reading about a rumoured
merger in the Financial Times?""")
    add("""Explain how embargoes on press releases work in financial journalism.""")
    add("""Cuba has been under a US trade embargo since 1962. Summarise its economic impact.""")
    add("""Write a blog post: 'Five mistakes companies make with NDAs'.""")


def _general_health(add) -> None:
    for text in [
        "Explain HIPAA's minimum necessary rule.",
        "What is the difference between HIPAA covered entities and business associates?",
        "What are the common side effects of metformin?",
        "How does ibuprofen differ from acetaminophen?",
        "What's the ICD-10 code for type 2 diabetes without complications?",
        "Explain what an NPI number is and who needs one.",
        "What are early signs of dehydration in older adults?",
        "How is hypertension diagnosed?",
        "What does an HbA1c of 7% mean?",
        "Explain the difference between type 1 and type 2 diabetes.",
        "What is the recommended daily intake of vitamin D for adults?",
        "How do mRNA vaccines work?",
        "What are the stages of sleep and why does REM matter?",
        "Summarise the current guidelines for colon cancer screening age.",
        "What is a medical record number and how is it different from a patient account?",
        "How does de-identification work under the HIPAA safe harbor method?",
        "What are the symptoms of a panic attack versus a heart attack?",
        "Explain what SOAP notes are and give a fictional template.",
        "How should I store insulin when travelling?",
        "What's the typical dose range of sertraline for adults?",
    ]:
        add(text)
    add("""A 54-year-old presents with crushing chest pain and diaphoresis. What's the
differential diagnosis and first-line workup? (Board exam practice question.)""")
    add("""Write a quiz for nursing students: five questions on ICD-10 coding conventions, for
example what the code J45.909 represents.""")
    add("""Is 10 mg of melatonin too much? I read online that 0.5 to 3 mg is enough.""")


def _general_finance(add) -> None:
    for text in [
        "What is the difference between an IBAN and a SWIFT code?",
        "How does an ABA routing number work and where do I find mine?",
        "Explain dollar-cost averaging in simple terms.",
        "What is EBITDA and why do analysts use it?",
        "How do index funds differ from ETFs?",
        "Explain how a credit card's interest is calculated on a revolving balance.",
        "What is the 4% rule in retirement planning?",
        "How do stock buybacks affect earnings per share?",
        "What is a merger arbitrage strategy?",
        "Explain what happens to my shares when two public companies merge.",
        "What's the difference between a Roth IRA and a traditional IRA?",
        "How does PCI DSS scope work for a small online shop?",
        "Explain what an earnings call is and what analysts listen for.",
        "What are the tax implications of selling stock after less than a year?",
        "How do I read a company's 10-K?",
    ]:
        add(text)
    add("""Apple reported earnings last week after the announcement on Thursday; summarise what
the market reaction was, based on public coverage.""")
    add("""The merger between two airlines was announced publicly yesterday. What usually
happens to the target's share price after such an announcement?""")
    add("""My budget: rent 1,450, groceries 420, transport 130, savings 500 per month. Where can I
cut 200?""")
    add("""If I invest 10,000 at 6% annual return for 25 years, what's the future value?""")
    add("""What does the number on the bottom of a cheque mean? Mine shows three groups of
digits but I don't know which is the routing number.""")


def _hard_negatives(add, rng: random.Random, fab: ModuleType) -> None:
    add(f"""Our order number is {fab.card_failing_luhn(rng, "visa")} and the package hasn't
arrived. How do I write a firm but polite complaint to the shop?""")
    failing_mastercard = fab.group_card(fab.card_failing_luhn(rng, "mastercard"))
    add(f"""Why does my Luhn validator say {failing_mastercard} is invalid? I typed it from a
sample in a tutorial.""")
    add(f"""Tracking number {fab.card_failing_luhn(rng, "discover")}: the courier site says
'label created' for five days. Is that normal?""")
    add("""Cite this book in APA: ISBN 978-0-13-468599-1, published 2018.""")
    add("""I have two editions: ISBN 9780262033848 and ISBN 9780262046305. Which is newer?""")
    add("""Upgrade from Node 18.19.1 to 20.11.0 broke our build; tsc 5.3.3 is fine. Ideas?""")
    add("""Python 3.11.7, pip 23.3.1, numpy 1.26.4 — pandas 2.2.1 import fails with a
segfault.""")
    add("""The meeting is on 2024-03-14 at 10:30; please draft an agenda.""")
    add("""Our fiscal year ends 30/06/2024 and the filing deadline is 15 January 2025. How many
working days do we have?""")
    add("""Compute (415 * 555) - 0132 and then divide by 7.""")
    add("""Simplify: 212 + 555 - 0198 + 7946 - 0321.""")
    add("""Find the next number in the sequence 2, 6, 12, 20, 30, 42.""")
    add("""Prove that 1234567890 is divisible by 9 without a calculator.""")
    add("""Calculate the GCD of 123456789 and 987654321.""")
    add("""Connect to 192.168.1.254 from 10.0.0.15 over SSH through a jump host; what's the
ssh config?""")
    add("""Invoice INV-2024-001873 shows a total of 4,815.62 EUR; should VAT be included?""")
    add(f"""My IBAN checker rejects {fab.iban_with_bad_check(rng, "DE")}. Is it the check digits
or the length?""")
    add(f"""Explain why {fab.iban_with_bad_check(rng, "GB")} fails validation.""")
    add(f"""Is {fab.aba_failing_checksum(rng)} a valid routing number? It came from a phishing
email and I want to understand the checksum.""")
    add("""The SKU is 400612345678 and the barcode scanner reads it as 0400612345678. Why the
extra zero?""")
    add("""The serial number on my router is 2211-8834-5567-9021. Where do I find the firmware
version?""")
    add("""How many seconds are in 365 days? I got 31536000.""")
    add("""The population of Tokyo is about 37,400,000. Compare with Delhi's 32,941,000.""")
    add("""What's the timezone offset for +05:30 and which countries use it?""")
    add("""Here's a SHA-256 from the download page:
9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 — how do I verify it on
Windows?""")
    add("""Git says commit 3f2a9c4e1b7d8a6f5e4c3b2a1908f7e6d5c4b3a2 not found. How do I fetch
it?""")
    add("""Coordinates 48.8584, 2.2945 — what landmark is that?""")
    add("""The Dow closed at 38,996.39 and the S&P at 5,137.08 today. Summarise the week.""")
    add("""My phone screen is cracked; is it worth repairing a 3-year-old model?""")
    add("""What's a good password manager for a family of four?""")
    add("""Set a password policy for our wiki: minimum length, rotation, MFA. Best practices?""")
    add("""Write a Python snippet that reads a phone number from input and formats it as
(XXX) XXX-XXXX.""")
    add("""We measured 5.55 ms p95 and 0.0198 error rate at 415 rps. Good enough?""")
    add("""The patient portal app keeps logging me out; how do I clear its cache on Android?""")
    add("""What is the difference between a DOB field and an age field in a database schema?""")
    add("""My birthday party is on Saturday; help me plan a menu for 12 people.""")
    add("""Born in 1990? Write a funny list of things only 90s kids remember.""")
    add("""Explain how the SSN format works (area, group, serial) and why some area numbers
were never issued.""")
    add("""Write a regex for UK National Insurance numbers and explain which prefixes are
invalid.""")
    add("""What is a Canadian SIN used for, and should I give it to a landlord?""")
    add("""Is it safe to share the last four digits of my card with a support agent?""")
    add("""Our API returns HTTP 429 with Retry-After: 120. How should the client back off?""")
    add("""Draft an email to the whole company announcing the new holiday calendar.""")
    add("""Write an announcement for our product launch next Tuesday; it's already on the
public roadmap and the blog post is live.""")
    add("""The Q3 earnings release is public now. Write a LinkedIn post celebrating the
results.""")
    add("""How do I become an insider threat analyst? What certifications help?""")
    add("""Pick a fun internal code name for our hackathon project.""",
        terms=("Project Halyard",))
    add("""That documentary about the shipwreck was harrowing. Recommend something lighter.""",
        terms=("Harrow",))
    add("""The Kestrel is a small falcon. How fast can it hover?""",
        terms=("Kestrel Aerospace",))
    add("""Write a thank-you note to the caterers for the team dinner.""",
        terms=("Bramblecote", "Juniper"))
    add("""Explain 'sk-' prefixed keys vs 'pk-' keys in general API design.""")
    add("""Our README says: export OPENAI_API_KEY=sk-your-key-here. Is that the right
variable name for the Python SDK?""")
    add("""What is the max length of a JWT and does the 'eyJ' prefix mean anything?""")
    add("""Generate a random strong password format policy: 16 chars, mixed case, digits,
symbols. Don't give me an actual password.""")
    add("""Explain what 'PRIVILEGED' means in Linux containers and when to avoid
--privileged.""")
    add("""Why does docker run --privileged need root, and what capabilities does it grant?""")
    add("""How do I mark a Google Doc as confidential so it can't be downloaded?""")
    add("""Translate 'confidential' and 'privileged' into German legal terminology.""")
    add("""Phone numbers in France have 10 digits; what do the first two digits mean?""")
    add("""The movie '2001: A Space Odyssey' was released in 1968. Who composed the music?""")
    add("""Room 1402 on floor 14 has no hot water. Write a note to the hotel front desk.""")
    add("""Track 7 on the album runs 4:33. Is that a reference to John Cage?""")
    add("""Our flight LH 1234 leaves at 14:05 and lands at 16:50. How long is the layover if
the next one is at 18:20?""")
    add("""The building at 221B Baker Street is a museum now? Is it worth visiting?""")
