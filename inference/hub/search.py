"""Search the Hugging Face Hub for models this app can run: GGUF (llama.cpp) and MLX repos.

One query per format, each filtered by its Hub tag ("gguf", "mlx") and sorted by downloads,
merged and cut to `limit`. `expand` asks the Hub for just the fields shown in a result
list, which keeps a page of thirty results small (no file lists, no model cards).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from inference.hub.remote_names import check_repo_id
from inference.hub.transfer import HubError, _api

RepoFormat = Literal["gguf", "mlx", "safetensors"]
# The Hub tags that mark a repository as holding files one of our engines can load.
SEARCHED_FORMATS: tuple[RepoFormat, ...] = ("gguf", "mlx")
_EXPAND = ["downloads", "likes", "gated", "lastModified", "library_name", "tags"]


@dataclass(frozen=True, slots=True)
class RepoSummary:
    repo_id: str
    format: RepoFormat
    downloads: int
    likes: int
    gated: bool
    last_modified: datetime | None


def repo_format(tags: list[str] | None, library_name: str | None) -> RepoFormat:
    marks = {t.lower() for t in tags or []} | {(library_name or "").lower()}
    if "gguf" in marks:
        return "gguf"
    if "mlx" in marks:
        return "mlx"
    return "safetensors"


def search_models(query: str, *, token: str | None = None, limit: int = 30,
                  formats: tuple[RepoFormat, ...] = SEARCHED_FORMATS) -> list[RepoSummary]:
    """Repositories whose id contains `query`, most downloaded first."""
    if limit < 1:
        return []
    api = _api(token)
    found: dict[str, RepoSummary] = {}
    for tag in formats:
        try:
            # list() inside the try: the listing is a lazy generator, errors come on iteration.
            infos = list(api.list_models(search=query or None, filter=tag, sort="downloads",
                                         limit=limit, expand=_EXPAND))  # type: ignore[arg-type]
        except Exception as exc:
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            # huggingface-hub's messages run over several lines; one is enough here.
            why = f"HTTP {status}" if status else (str(exc).splitlines() or [repr(exc)])[0]
            raise HubError(f"Could not search the Hub for '{query}' ({why}).") from exc
        for info in infos:
            check_repo_id(info.id)  # it becomes a cache folder's name when pulled
            if info.id in found:
                continue
            found[info.id] = RepoSummary(
                repo_id=info.id,
                format=repo_format(info.tags, getattr(info, "library_name", None)),
                downloads=int(info.downloads or 0),
                likes=int(info.likes or 0),
                # The Hub answers False, "auto" or "manual"; both strings need accepted terms.
                gated=bool(info.gated),
                last_modified=info.last_modified,
            )
    ranked = sorted(found.values(), key=lambda r: (-r.downloads, r.repo_id))
    return ranked[:limit]
