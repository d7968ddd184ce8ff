"""`stillroom models search | files | fit`: find models on the Hub and tell, before any
download, whether they fit this machine.

Only argparse is imported at module level: the parser is built for every `stillroom` call.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.arguments import positive_int
from app.cli.models_cmd import hub_token
from inference.engines.owned_engine import DEFAULT_CONTEXT

if TYPE_CHECKING:
    from inference.models.fit import FitEstimate
    from inference.models.library import ModelLibrary



def add_acquire_commands(model_commands: argparse._SubParsersAction) -> None:
    search = model_commands.add_parser(
        "search", help="search Hugging Face for GGUF and MLX models",
        description="Repositories whose name contains QUERY, most downloaded first. Gated "
                    "repos need their terms accepted on huggingface.co and a token "
                    "(`stillroom keys set huggingface`).")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--limit", type=positive_int, default=30, metavar="N",
                        help="at most N repositories (default 30)")
    search.add_argument("--json", action="store_true")
    files = model_commands.add_parser(
        "files", help="a repository's GGUF files: quantization, size, fit on this machine",
        description="Reads one GGUF header per family of files (by HTTP ranges, not the "
                    "whole file) to estimate memory at the given context.")
    files.add_argument("repo", metavar="REPO", help="e.g. org/Model-GGUF")
    _add_context(files)
    files.add_argument("--json", action="store_true")
    fit = model_commands.add_parser(
        "fit", help="will a model fit: memory needed at a context, and GPU offload",
        description="MODEL is an installed model id, a GGUF path, or REPO:FILE on the Hub "
                    "(only the file's header is read).")
    fit.add_argument("model", metavar="MODEL", help="model id, path, or ORG/REPO[:FILE]")
    _add_context(fit)
    fit.add_argument("--json", action="store_true")
    for parser in (search, files, fit):
        parser.set_defaults(models_func=run_acquire)  # models_cmd.run_models calls it


def _add_context(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", type=positive_int, metavar="N",
                        help="context length in tokens (default: the context_length "
                             f"setting, else {DEFAULT_CONTEXT})")


def run_acquire(args: argparse.Namespace, library: ModelLibrary) -> int:
    if args.models_command == "search":
        return _search(args)
    if args.models_command == "files":
        return _files(args)
    return _fit(args, library)


def _context(args: argparse.Namespace) -> int:
    if args.context:
        return int(args.context)
    from app.config import data_dir, load_settings

    settings, _warnings = load_settings(data_dir() / "settings.json")
    return settings.context_length or DEFAULT_CONTEXT


def _search(args: argparse.Namespace) -> int:
    from inference.hub.reachability import require_hub_reachable
    from inference.hub.search import search_models

    require_hub_reachable()  # one line in a second, not a retry loop, when it is not
    found = search_models(args.query, token=hub_token(), limit=args.limit)
    if args.json:
        print(json.dumps([{"repo_id": r.repo_id, "format": r.format, "downloads": r.downloads,
                           "likes": r.likes, "gated": r.gated,
                           "last_modified": r.last_modified.isoformat()
                           if r.last_modified else None} for r in found], indent=2))
        return 0
    if not found:
        print(f"No GGUF or MLX repositories match '{args.query}'.")
        return 0
    print(f"{'REPOSITORY':56} {'FORMAT':6} {'DOWNLOADS':>9} {'LIKES':>6}  UPDATED")
    for repo in found:
        updated = f"{repo.last_modified:%Y-%m-%d}" if repo.last_modified else "?"
        gated = "  gated" if repo.gated else ""
        print(f"{repo.repo_id:56} {repo.format:6} {_count(repo.downloads):>9} "
              f"{_count(repo.likes):>6}  {updated}{gated}")
    print("Files and fit: stillroom models files REPO")
    return 0


def _count(value: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)


def _fit_json(fit: FitEstimate | None) -> dict[str, object] | None:
    if fit is None:
        return None
    return {"verdict": fit.verdict, "needed_bytes": fit.needed_bytes,
            "available_bytes": fit.available_bytes, "weights_bytes": fit.weights_bytes,
            "kv_cache_bytes": fit.kv_cache_bytes, "context_length": fit.context_length,
            "memory_kind": fit.memory_kind, "explanation": fit.explanation,
            "n_gpu_layers": fit.n_gpu_layers, "gpu": fit.offload.device,
            "offload": fit.offload.reason}


def _offload_text(fit: FitEstimate) -> str:
    if fit.n_gpu_layers == 0:
        return "CPU"
    if fit.n_gpu_layers < 0:
        return "GPU: all"
    return f"GPU: {fit.n_gpu_layers}/{fit.offload.total_layers}"


def _files(args: argparse.Namespace) -> int:
    from app.cli.render import human_bytes
    from inference.hub.reachability import require_hub_reachable
    from inference.hub.remote_fit import list_repo_models
    from inference.hub.transfer import parse_reference

    repo_id, filename = parse_reference(args.repo)
    if filename is not None:
        raise ValueError(f"`models files` takes a repository, not a file; for one file use "
                         f"`stillroom models fit {args.repo}`.")
    context = _context(args)
    require_hub_reachable()
    models = list_repo_models(repo_id, context, token=hub_token())
    if args.json:
        print(json.dumps([{"file": m.filename, "files": [s.filename for s in m.shards],
                           "quantization": m.quantization, "size_bytes": m.size_bytes,
                           "kind": m.kind, "fit": _fit_json(m.fit), "error": m.error}
                          for m in models], indent=2))
        return 0
    if not models:
        print(f"{repo_id} has no GGUF files.")
        return 0
    print(f"{'FILE':56} {'QUANT':8} {'SIZE':>9}  {'FIT':8} OFFLOAD")
    for model in models:
        shards = f" ({len(model.shards)} parts)" if len(model.shards) > 1 else ""
        if model.fit is not None:
            verdict, offload = model.fit.verdict, _offload_text(model.fit)
        else:
            verdict = "-" if model.kind == "projector" else "unknown"
            offload = "vision projector" if model.kind == "projector" else (model.error or "")
        print(f"{model.filename + shards:56} {model.quantization or '?':8} "
              f"{human_bytes(model.size_bytes):>9}  {verdict:8} {offload}")
    print(f"Fit at a {context}-token context. Download: stillroom models pull "
          f"{repo_id}:FILE")
    return 0


def _fit(args: argparse.Namespace, library: ModelLibrary) -> int:
    from inference.models.fit import estimate_fit, estimate_model_dir_fit
    from inference.models.gguf_file import read_summary

    context = _context(args)
    source = args.model
    local = Path(source).expanduser()
    if local.is_file() or (source.lower().endswith(".gguf") and ":" not in source):
        target = str(local)
        fit = estimate_fit(read_summary(local), context)  # GGUFError: one line, exit 2
    elif local.is_dir():
        target = str(local)
        fit = estimate_model_dir_fit(local, context)  # ModelDirError: one line, exit 2
    elif _looks_like_hub(source, library):
        from inference.hub.reachability import require_hub_reachable
        from inference.hub.remote_fit import remote_fit
        from inference.hub.transfer import choose_file, parse_reference, repo_files

        repo_id, filename = parse_reference(source)
        require_hub_reachable()
        token = hub_token()
        files = repo_files(repo_id, token=token)
        remote = choose_file(repo_id, files, filename)
        target = f"{repo_id}:{remote.filename}"
        fit = remote_fit(remote, context, token=token, siblings=files)
    else:
        model = library.get(source)
        target = model.id
        if model.format == "mlx":
            fit = estimate_model_dir_fit(model.path, context)
        else:
            fit = estimate_fit(read_summary(model.path), context)
    if args.json:
        print(json.dumps({"model": target, **(_fit_json(fit) or {})}, indent=2))
        return 0
    print(f"{target}: {fit.verdict} — {fit.explanation}")
    if fit.offload.device is not None:
        layers = "every layer" if fit.n_gpu_layers < 0 else f"{fit.n_gpu_layers} layers"
        print(f"GPU offload: {layers} on {fit.offload.device} (n_gpu_layers "
              f"{fit.n_gpu_layers}): {fit.offload.reason}")
    else:
        print(f"Runs on the CPU ({fit.offload.reason}).")
    return 0


def _looks_like_hub(source: str, library: ModelLibrary) -> bool:
    """ORG/REPO or ORG/REPO:FILE that is neither a file here nor an installed model id."""
    if source.count("/") != 1 and ":" not in source:
        return False
    return source not in {m.id for m in library.list()}
