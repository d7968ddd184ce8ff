"""`stillroom docs`: batch jobs over folders of documents (app/documents/jobs), their
status, pause / resume / cancel from any process, exports, and the templates."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.arguments import positive_int
from app.cli.errors import print_error, print_start_report
from app.documents.jobs.eta import duration

if TYPE_CHECKING:
    from app.documents.jobs.runner import Progress
    from app.documents.templates import Template, TemplateCatalog
    from app.services import Services
    from app.store.jobs import JobInfo, JobLedger


PARALLEL_HELP = ("documents answered at once on one copy of a GGUF model (continuous "
                 "batching: each of N slots holds its own context; default: 1, one at a time)")


def add_docs_commands(commands: argparse._SubParsersAction) -> None:
    docs = commands.add_parser(
        "docs", help="run a template over a folder of documents; jobs, exports, templates",
        description="Each document is answered on this machine unless --route says otherwise "
                    "(and the policy allows it). A job killed half-way continues with "
                    "`docs resume JOB` (or the same `docs run`): nothing is done twice.")
    actions = docs.add_subparsers(dest="docs_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="run a template over every document of FOLDER")
    run.add_argument("folder", type=Path, metavar="FOLDER")
    run.add_argument("--template", required=True, metavar="NAME",
                     help="see `stillroom docs templates`")
    run.add_argument("--model", "-m", metavar="ID", help="model id (default: the default model)")
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="also write the results there when the job ends (csv, jsonl, docx, "
                          "xlsx)")
    run.add_argument("--route", default="local", metavar="ROUTE",
                     help="local (default), cloud, onprem or a provider; off this machine only "
                          "where the policy allows it, and never for sensitive documents")
    run.add_argument("--max-tokens", type=positive_int, metavar="N",
                     help="longest answer per document (default: the template's)")
    run.add_argument("--seed", type=int, default=0, metavar="N", help="sampling seed (0)")
    run.add_argument("--temperature", type=float, default=0.0, metavar="T",
                     help="sampling temperature (0: the same answer every run)")
    run.add_argument("--parallel", type=positive_int, default=1, metavar="N",
                     help=PARALLEL_HELP)
    listing = actions.add_parser("jobs", help="every job, newest first")
    listing.add_argument("--json", action="store_true")
    status = actions.add_parser("status", help="one job and each of its documents")
    status.add_argument("job", metavar="JOB", help="job id or a unique prefix")
    status.add_argument("--json", action="store_true")
    for name, text in (("pause", "stop after the document in progress (from any process)"),
                       ("cancel", "stop for good after the document in progress"),
                       ("resume", "continue a paused or interrupted job here; a done job "
                                  "picks up new and changed files")):
        action = actions.add_parser(name, help=text)
        action.add_argument("job", metavar="JOB", help="job id or a unique prefix")
        if name == "resume":
            action.add_argument("--out", type=Path, metavar="DIR",
                                help="also write the results there when the job ends")
            action.add_argument("--parallel", type=positive_int, default=1, metavar="N",
                                help=PARALLEL_HELP)
    export = actions.add_parser("export", help="write a job's results to a file")
    export.add_argument("job", metavar="JOB", help="job id or a unique prefix")
    export.add_argument("--format", required=True, choices=("csv", "jsonl", "docx", "xlsx"))
    export.add_argument("--out", type=Path, metavar="FILE",
                        help="default: <job>-<template>.<format> in the current folder")
    templates = actions.add_parser("templates", help="the templates jobs can use")
    templates.add_argument("--json", action="store_true")


def run_docs(args: argparse.Namespace) -> int:
    from app.services import Services
    from inference.engines.batching import BatchSettings

    parallel = getattr(args, "parallel", 1)
    # Several documents at once: GGUF models load batched, one slot per document (the job is
    # the only owner here, so it may use them all).
    services = Services.open(batch=BatchSettings(slots=parallel) if parallel > 1 else None)
    try:
        print_start_report(services)
        handler = {"run": _run, "jobs": _jobs, "status": _status, "pause": _control,
                   "cancel": _control, "resume": _resume, "export": _export,
                   "templates": _templates}[args.docs_command]
        return handler(services, args)
    finally:
        services.close()


def _ledger(services: Services) -> JobLedger:
    from app.store.jobs import JobLedger

    return JobLedger(services.store.engine)


def _catalog(services: Services, *, quiet: bool = False) -> TemplateCatalog:
    from app.documents.templates import load_templates

    catalog = load_templates(services.data_dir)
    if not quiet:
        for problem in catalog.problems:
            print_error(f"warning: {problem}")
    return catalog


def _run(services: Services, args: argparse.Namespace) -> int:
    from app.documents.jobs.runner import check_route

    folder = args.folder.expanduser()
    if not folder.is_dir():
        raise ValueError(f"{args.folder} is not a folder; give the folder that holds the "
                         f"documents.")
    if not 0 <= args.temperature <= 2:
        raise ValueError(f"--temperature must be between 0 and 2, got {args.temperature}.")
    template = _catalog(services).get(args.template)
    chat = services.chat()
    model = chat.resolve_model(args.model)
    route = args.route.strip().lower()
    announcement = check_route(chat, route, model.id)
    if announcement:
        print(announcement, file=sys.stderr)
    ledger = _ledger(services)
    where = str(folder.resolve())
    job = ledger.find_unfinished(folder=where, template=template.name, model_id=model.id,
                                 route=route)
    if job is not None and job.runner_alive:
        raise ValueError(f"job {job.id} over this folder is running in process "
                         f"{job.runner_pid}; `stillroom docs status {job.id}` follows it.")
    if job is not None:
        print(f"Continuing job {job.id} ({job.done + job.failed}/{job.total} done).",
              file=sys.stderr)
    else:
        job = ledger.create(folder=where, template=template.name, model_id=model.id,
                            route=route, options={"max_tokens": args.max_tokens,
                                                  "seed": args.seed,
                                                  "temperature": args.temperature})
        print(f"Job {job.id}: {template.name} over {where} with {model.id}.", file=sys.stderr)
    return _drive(services, job, template, args.out)


def _drive(services: Services, job: JobInfo, template: Template, out: Path | None) -> int:
    from app.documents.jobs.runner import JobRunner

    ledger = _ledger(services)
    runner = JobRunner(services.chat(), ledger, template, job)
    status = runner.run(_print_progress)
    job = ledger.get(job.id)
    print(f"Job {job.id} {status}: {job.done} done, {job.failed} failed, of {job.total}.",
          file=sys.stderr)
    print(job.id)
    if out is not None and status == "done":
        _export_all(services, job, template, out)
    return 0


def _print_progress(progress: Progress) -> None:
    speed = f"{progress.tokens_per_s:.1f} tok/s" if progress.tokens_per_s else "- tok/s"
    eta = duration(progress.eta_s) if progress.eta_s is not None else "-"
    failed = f", {progress.failed} failed" if progress.failed else ""
    name = Path(progress.last_path).name if progress.last_path else ""
    print(f"{progress.done}/{progress.total} done{failed} · {speed} · ETA {eta} · "
          f"{name}: {progress.last_status}", file=sys.stderr, flush=True)


def _job_json(job: JobInfo) -> dict:
    return {"id": job.id, "folder": job.folder, "template": job.template,
            "model": job.model_id, "route": job.route, "status": job.shown_status,
            "total": job.total, "done": job.done, "failed": job.failed,
            "created": job.created_at.isoformat(),
            "finished": job.finished_at.isoformat() if job.finished_at else None}


def _jobs(services: Services, args: argparse.Namespace) -> int:
    jobs = _ledger(services).list()
    if args.json:
        print(json.dumps([_job_json(job) for job in jobs], ensure_ascii=False))
        return 0
    if not jobs:
        print("No jobs yet: `stillroom docs run FOLDER --template NAME` starts one.")
    for job in jobs:
        print(f"{job.id}  {job.shown_status:<11} {job.done + job.failed:>5}/{job.total:<5} "
              f"{job.template:<16} {job.folder}")
    return 0


def _status(services: Services, args: argparse.Namespace) -> int:
    ledger = _ledger(services)
    job = ledger.get(args.job)
    items = ledger.items(job.id)
    if args.json:
        print(json.dumps({**_job_json(job), "documents": [
            {"path": i.path, "sha256": i.sha256, "status": i.status, "error": i.error,
             "pages": i.pages, "result": i.result, "prompt_tokens": i.prompt_tokens,
             "completion_tokens": i.completion_tokens, "ttft_s": i.ttft_s,
             "total_s": i.total_s, "route": i.route_target} for i in items]},
            ensure_ascii=False))
        return 0
    print(f"Job {job.id}: {job.shown_status}, {job.done} done, {job.failed} failed, of "
          f"{job.total} · {job.template} · {job.model_id} · {job.folder}")
    for item in items:
        why = f"  ({item.error})" if item.error else ""
        print(f"  {item.status:<8} {Path(item.path).name}{why}")
    return 0


def _control(services: Services, args: argparse.Namespace) -> int:
    ledger = _ledger(services)
    job = ledger.get(args.job)
    if job.status in ("done", "cancelled"):
        raise ValueError(f"job {job.id} is {job.status}; there is nothing to "
                         f"{args.docs_command}.")
    after = ledger.request(job.id, args.docs_command)
    if after.status == "running":
        print(f"Job {job.id} will {args.docs_command} after the document in progress.")
    else:
        print(f"Job {job.id} is {after.status}.")
    return 0


def _resume(services: Services, args: argparse.Namespace) -> int:
    ledger = _ledger(services)
    job = ledger.get(args.job)
    if job.status == "cancelled":
        raise ValueError(f"job {job.id} was cancelled; start a new one with `stillroom docs "
                         f"run`.")
    if job.runner_alive:
        raise ValueError(f"job {job.id} is running in process {job.runner_pid}.")
    template = _catalog(services).get(job.template)
    return _drive(services, job, template, args.out)


def _export(services: Services, args: argparse.Namespace) -> int:
    from app.documents.exports import export

    ledger = _ledger(services)
    job = ledger.get(args.job)
    template = _catalog(services, quiet=True).get(job.template)
    out = args.out or Path(f"{job.id}-{job.template}.{args.format}")
    _write(lambda: export(job, template, ledger.items(job.id), args.format, out), out)
    print(out)
    return 0


def _export_all(services: Services, job: JobInfo, template: Template, folder: Path) -> None:
    from app.documents.exports import FORMATS, export

    items = _ledger(services).items(job.id)
    for fmt in FORMATS:
        out = folder / f"{job.id}-{template.name}.{fmt}"
        _write(lambda fmt=fmt, out=out: export(job, template, items, fmt, out), out)
        print(out, file=sys.stderr)


def _write(write: Callable[[], object], out: Path) -> None:
    """A file that cannot be written is one line (the results stay in the ledger)."""
    try:
        write()
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc.strerror or exc}; the results are kept, "
                         f"export them elsewhere with `stillroom docs export`.") from None


def _templates(services: Services, args: argparse.Namespace) -> int:
    catalog = _catalog(services)
    if args.json:
        print(json.dumps([{"name": t.name, "description": t.description, "output": t.output,
                           "fields": list(t.fields), "source": t.source}
                          for t in catalog.templates.values()], ensure_ascii=False))
        return 0
    for template in sorted(catalog.templates.values(), key=lambda t: t.name):
        print(f"{template.name:<16} {template.output:<5} {template.description}")
    return 0
