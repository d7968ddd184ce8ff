"""A Hugging Face Hub on 127.0.0.1, speaking the parts of its HTTP protocol that
huggingface-hub uses to search, describe and download models (reached via HF_ENDPOINT).

Faults on demand: `cut_after` drops the connection after that many bytes of a GET (once
per file, so a Range request can finish it); `hold_after` sends that many bytes of a GET
and then waits for `release` (once per file: a transfer caught mid-file, for pause tests);
`corrupt` serves bytes that differ from the
published SHA-256; `unavailable` answers the next N file requests with 503; `gated` repos
answer 401 without the right token. Every request is recorded so tests can check what was
asked (e.g. a Range header).

A modified, hostile Hub on demand: `published_sha256` publishes another SHA-256 for a file
(`../../x`, say), `commit` another commit id, `claimed_ids` another id for a repository in
search results and model info; a file name such as `../../x` is simply added as a file.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubFile:
    data: bytes
    sha256: str = ""

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class HubRepo:
    files: dict[str, HubFile]
    tags: list[str] = field(default_factory=lambda: ["gguf"])
    library_name: str | None = None
    gated: bool = False
    downloads: int = 0
    likes: int = 0


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


class FakeHub:
    def __init__(self, token: str = "hf_test_token") -> None:
        self.repos: dict[str, HubRepo] = {}
        self.token = token
        self.cut_after: dict[str, int] = {}      # filename -> bytes before the first cut
        self.corrupt: set[str] = set()           # filenames served with flipped bytes
        self.unavailable = 0                     # answer the next N file requests with 503
        self.search_status: int | None = None    # answer searches with this HTTP error
        self.rate_bps: float | None = None       # pace file bodies like a link of this speed
        self.hold_after: dict[str, int] = {}     # filename -> bytes sent before waiting
        self.release = threading.Event()         # lets held transfers go on
        self.requests: list[Recorded] = []
        self.published_sha256: dict[str, str] = {}  # filename -> the SHA-256 the API claims
        self.commit = COMMIT                          # the commit `main` is said to be
        self.claimed_ids: dict[str, str] = {}       # repo id -> the id the API claims
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, repo_id: str, files: dict[str, bytes | Path], **options: object) -> HubRepo:
        blobs = {name: HubFile(value.read_bytes() if isinstance(value, Path) else value)
                 for name, value in files.items()}
        repo = HubRepo(blobs, **options)  # type: ignore[arg-type]
        self.repos[repo_id] = repo
        return repo

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    # -- the API's JSON ---------------------------------------------------------------
    def model_json(self, repo_id: str, repo: HubRepo, blobs: bool) -> dict:
        siblings = []
        for name, blob in repo.files.items():
            sibling: dict[str, object] = {"rfilename": name}
            if blobs:
                sha256 = self.published_sha256.get(name, blob.sha256)
                sibling.update(size=len(blob.data), blobId=hashlib.sha1(blob.data).hexdigest(),
                               lfs={"sha256": sha256, "size": len(blob.data),
                                    "pointerSize": 134})
            siblings.append(sibling)
        claimed = self.claimed_ids.get(repo_id, repo_id)
        return {"_id": claimed, "id": claimed, "modelId": claimed, "sha": self.commit,
                "private": False, "gated": "auto" if repo.gated else False,
                "disabled": False, "downloads": repo.downloads, "likes": repo.likes,
                "tags": repo.tags, "library_name": repo.library_name,
                "lastModified": "2026-11-01T00:00:00.000Z",
                "createdAt": "2026-10-01T00:00:00.000Z", "siblings": siblings}


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _record(self) -> None:
            hub.requests.append(Recorded(self.command, self.path,
                                        {k.lower(): v for k, v in self.headers.items()}))

        def _json(self, status: int, body: object, headers: dict[str, str] | None = None
                  ) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def _authorized(self, repo: HubRepo) -> bool:
            if not repo.gated:
                return True
            return self.headers.get("Authorization") == f"Bearer {hub.token}"

        def _refuse_gated(self, repo_id: str) -> None:
            self._json(401, {"error": f"Access to model {repo_id} is restricted."},
                       {"X-Error-Code": "GatedRepo",
                        "X-Error-Message": f"Access to model {repo_id} is restricted."})

        def do_HEAD(self) -> None:
            self._record()
            self._route()

        def do_GET(self) -> None:
            self._record()
            self._route()

        def _route(self) -> None:
            url = urlparse(self.path)
            path = unquote(url.path)
            query = parse_qs(url.query)
            if path == "/api/models":
                return self._search(query)
            match = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/[^/]+)?", path)
            if match:
                repo = hub.repos.get(match.group(1))
                if repo is None:
                    return self._json(404, {"error": "Repository not found"},
                                      {"X-Error-Code": "RepoNotFound"})
                if not self._authorized(repo):
                    return self._refuse_gated(match.group(1))
                blobs = query.get("blobs", ["false"])[0] == "true"
                return self._json(200, hub.model_json(match.group(1), repo, blobs))
            match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            if match:
                return self._resolve(*match.groups())
            self._json(404, {"error": "not found"})

        def _search(self, query: dict[str, list[str]]) -> None:
            if hub.search_status is not None:
                return self._json(hub.search_status, {"error": "search refused"})
            words = query.get("search", [""])[0].lower()
            filters = set(query.get("filter", []))
            found = [hub.model_json(repo_id, repo, blobs=False)
                     for repo_id, repo in hub.repos.items()
                     if words in repo_id.lower() and filters <= set(repo.tags)]
            if query.get("sort", [""])[0] == "downloads":
                found.sort(key=lambda m: -m["downloads"])
            limit = int(query.get("limit", ["1000"])[0])
            self._json(200, found[:limit])

        def _resolve(self, repo_id: str, revision: str, filename: str) -> None:
            if hub.unavailable > 0:
                hub.unavailable -= 1
                return self._json(503, {"error": "Service Unavailable"})
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._json(404, {"error": "Repository not found"},
                                  {"X-Error-Code": "RepoNotFound"})
            if not self._authorized(repo):
                return self._refuse_gated(repo_id)
            blob = repo.files.get(filename)
            if blob is None:
                return self._json(404, {"error": "Entry not found"},
                                  {"X-Error-Code": "EntryNotFound"})
            data = blob.data
            if filename in hub.corrupt:
                data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
            start, end, status = 0, len(data) - 1, 200
            ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if ranged and self.command == "GET":
                start = int(ranged.group(1))
                end = int(ranged.group(2)) if ranged.group(2) else end
                status = 206
            self.send_response(status)
            self.send_header("X-Repo-Commit", hub.commit)
            self.send_header("ETag", f'"{blob.sha256}"')
            self.send_header("X-Linked-Etag", f'"{blob.sha256}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start + 1))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.end_headers()
            if self.command == "HEAD":
                return
            body = memoryview(data)[start:end + 1]
            held = hub.hold_after.pop(filename, None)
            if held is not None:
                self.wfile.write(body[:held])
                self.wfile.flush()
                hub.release.wait()
                body = body[held:]
            cut = hub.cut_after.pop(filename, None)
            if cut is not None:
                # Send part of the body, then drop the connection: a network cut mid-file.
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if hub.rate_bps:
                return self._paced(body, hub.rate_bps)
            self.wfile.write(body)

        def _paced(self, body: memoryview, rate_bps: float) -> None:
            """Send at `rate_bps` on average, in 256 KiB slices, like a real link."""
            start = time.monotonic()
            for offset in range(0, len(body), 256 << 10):
                self.wfile.write(body[offset:offset + (256 << 10)])
                ahead = start + (offset + (256 << 10)) / rate_bps - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

    return Handler
