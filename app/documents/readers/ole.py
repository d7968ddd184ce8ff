"""OLE compound files (Outlook .msg, legacy .doc/.xls, password-protected Office files):
none is read; each gets a status and a line saying what to do instead.

No .msg reader: the one maintained Python reader, extract-msg, is GPL (checked: 0.57.0,
"License: GPL"), which does not fit an app we distribute.
"""

from __future__ import annotations

from pathlib import Path

from app.documents.document import Document
from app.documents.readers import ReadOptions, register, result

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def register_reader() -> None:
    register("ole", (".msg", ".doc", ".xls", ".ppt"), (_OLE_MAGIC,), read_ole)


def read_ole(path: Path, options: ReadOptions) -> Document:
    name = path.name
    # Stream names sit in the directory sectors, UTF-16; reading 1 MiB finds them in files
    # Office writes (the directory comes early) without parsing the format.
    with path.open("rb") as stream:
        sample = stream.read(1024 * 1024)
    if _utf16("EncryptionInfo") in sample or _utf16("EncryptedPackage") in sample:
        return result("encrypted", f"{name}: the Office file is password-protected; save "
                      f"an unprotected copy and read that.", kind="office")
    if path.suffix.lower() == ".msg" or _utf16("__substg1.0_") in sample:
        return result("unsupported", f"{name}: Outlook .msg is not read; convert it to .eml "
                      f"(Outlook: Save As > .eml) and read that.", kind="msg")
    return result("unsupported", f"{name}: a legacy Office file (.doc/.xls/.ppt); save it as "
                  f".docx (File > Save As) and read that.", kind="office")
