"""The Hub work behind the Models tab, as plain functions for a background thread.

Qt-free on purpose: each runs on a worker thread (app.gui.background) and returns values
the UI thread shows. The token is read here too, because the keyring may block (an
unlocking prompt, a slow D-Bus) and must never do so on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app.services import Services

if TYPE_CHECKING:
    from inference.hub.remote_fit import RemoteModel
    from inference.hub.search import RepoSummary


def check_online() -> None:
    """Raise HubError within about a second when the Hub cannot be reached: offline mode
    refuses it (a loopback Hub, as in tests or a local mirror, stays reachable), or there is
    no DNS or route. huggingface-hub would retry with backoff for about 20 s first, and the
    user should hear why now."""
    from urllib.parse import urlparse

    from inference.hub.reachability import require_hub_reachable
    from inference.hub.transfer import HubError, endpoint
    from routing import offline

    if offline.is_enabled() and not offline.is_local(urlparse(endpoint()).hostname):
        raise HubError("Offline mode is on, so Stillroom may not contact the Hub; turn it off "
                       "in Settings → Privacy to search and download.")
    require_hub_reachable()


def search(services: Services, query: str, limit: int) -> list[RepoSummary]:
    """RepoSummary for each matching GGUF/MLX repository, most downloaded first."""
    from inference.hub.search import search_models

    check_online()
    return search_models(query, token=services.hub_token(), limit=limit)


def repo_models(services: Services, repo: RepoSummary, context_length: int,
                report: Callable[[list[RemoteModel]], None]) -> list[RemoteModel] | None:
    """The repository's GGUF models with a fit each; None when it is gated and no token
    is stored (the Hub would refuse, and the user needs the hint, not its error).

    `report` gets the models without fits as soon as the file list is in, so the table
    fills while the headers are read."""
    from inference.hub.remote_fit import RemoteModel, list_repo_models, shard_of
    from inference.hub.transfer import repo_files

    check_online()
    token = services.hub_token()
    if repo.gated and not token:
        return None
    files = repo_files(repo.repo_id, token=token)
    report([RemoteModel(repo.repo_id, f.filename, (f,), f.quantization, f.size_bytes,
                        "projector" if "mmproj" in f.filename.lower() else "model")
            for f in sorted(files, key=lambda f: f.filename)
            if f.filename.lower().endswith(".gguf")
            and (shard_of(f.filename) or (1, 1))[0] == 1])
    return list_repo_models(repo.repo_id, context_length, token=token, files=files)
