"""The office server under a steady load for a fixed time, by hand (tests/server/test_load.py
is the bounded version the suite runs).

    .venv/bin/python bench/server_load.py [--seconds 60] [--clients 16] [--users 4]
                                          [--max-tokens 16] [--slots 4] [--max-waiting 16]

Starts `stillroom serve` on a free loopback port over a throw-away data directory with
``--users`` users, then ``--clients`` concurrent clients of the official `openai` SDK
(asyncio) send short chat requests (half streamed) until the time is up. Prints the
statuses, answered requests/s, completion tokens/s, the server's peak RSS against its RSS
after a warm-up round, and whether the ledger's totals equal the responses' usage."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import run_cli
from tests.server.conftest import MODEL, ServeProcess
from tests.server.load_run import run_load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--max-waiting", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="stillroom-load-") as directory:
        home = Path(directory) / "home"
        keys = {}
        for index in range(args.users):
            name = f"user{index}"
            added = run_cli("users", "add", name, home=home,
                            env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
            if added.returncode != 0:
                print(added.stderr, file=sys.stderr)
                return 1
            keys[name] = added.stdout.strip().splitlines()[-1]
        server = ServeProcess(home, "--slots", str(args.slots), "--max-waiting",
                              str(args.max_waiting),
                              env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
        try:
            pid = server.process.pid
            warm = asyncio.run(run_load(server.base_url, MODEL, keys, clients=args.clients,
                                        server_pid=pid, requests=args.clients,
                                        max_tokens=args.max_tokens))
            run = asyncio.run(run_load(server.base_url, MODEL, keys, clients=args.clients,
                                       server_pid=pid, seconds=args.seconds,
                                       max_tokens=args.max_tokens))
            rows = server.query("SELECT sum(prompt_tokens), sum(completion_tokens), "
                                "count(*) FROM usage")
        finally:
            server.stop()
    answered = warm.usage + run.usage
    prompt = sum(u[1] for u in answered)
    completion = sum(u[2] for u in answered)
    run_completion = sum(u[2] for u in run.usage)
    print(f"{args.clients} clients, {args.users} users, {run.seconds:.1f} s, "
          f"load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    print(f"statuses: {dict(sorted(run.statuses.items()))}; other errors: "
          f"{len(run.errors)}{' ' + run.errors[0] if run.errors else ''}")
    print(f"answered: {run.statuses[200] / run.seconds:.2f} requests/s, "
          f"{run_completion / run.seconds:.1f} completion tokens/s")
    print(f"server RSS: {warm.peak_rss >> 20} MiB after warm-up, {run.peak_rss >> 20} MiB "
          f"peak under load (+{(run.peak_rss - warm.peak_rss) >> 20} MiB)")
    ledger_prompt, ledger_completion, ledger_rows = rows[0]
    agrees = (ledger_prompt, ledger_completion, ledger_rows) == (prompt, completion,
                                                                 len(answered))
    print(f"ledger: {ledger_rows} rows, {ledger_prompt} + {ledger_completion} tokens; "
          f"responses: {len(answered)}, {prompt} + {completion}: "
          f"{'agree' if agrees else 'DISAGREE'}")
    return 0 if agrees and not run.errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
