"""Small documents made by code for the job tests: plain text, Markdown and HTML, in
English, German, Polish and Japanese, and e-mail-like memos for the privilege log."""

from __future__ import annotations

from pathlib import Path

DOCUMENTS: dict[str, str] = {
    "01-lease-memo.txt": "Memo to Bob Smith from Jane Roe, counsel, 2024-03-02.\n"
                         "Subject: lease dispute. My advice is to settle before trial.",
    "02-meeting.md": "# Board meeting\n\nThe board met on 2024-01-15 and approved the budget "
                     "of EUR 40,000 for the new office.",
    "03-notice.html": "<html><head><title>Notice</title><style>p{color:red}</style>"
                      "<script>track()</script></head><body><h1>Rent notice</h1>"
                      "<p>Rent of USD 2,100 is due on the first of each month.</p></body></html>",
    "04-brief-de.txt": "Vermerk vom 3. Mai 2024: Die Kanzlei Müller berät die Mandantin "
                       "zur Kündigung des Liefervertrags.",
    "05-note-pl.txt": "Notatka z 12 lutego 2024: spółka zapłaci 15 000 zł za dostawę stali.",
    "06-fax-ja.txt": "2024年4月1日の会議で、契約の更新が承認されました。",
    "07-invoice.txt": "Invoice 1187 from Northwind Supply to Contoso, 2023-11-30, "
                      "total USD 12,400 for steel beams.",
    "08-email.txt": "From: Ann Lee <ann@lawfirm.example>\nTo: Carl Diaz\nCc: Dana Fox\n"
                    "Date: 2023-06-09\nSubject: patent claims\n\nCarl, attached is my "
                    "analysis of the patent claims, prepared for the coming litigation.",
    "09-minutes.md": "## Minutes\n\n- Delivery delayed to July.\n- Penalty clause "
                     "discussed with the supplier.",
    "10-letter.txt": "Dear Ms. Park, thank you for your order of 200 chairs, shipped "
                     "on 2024-02-20.",
}


def make_corpus(folder: Path, names: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or list(DOCUMENTS):
        (folder / name).write_text(DOCUMENTS[name], encoding="utf-8")
    return folder
