"""`--database URL` (and STILLROOM_DATABASE_URL) on every command, against a real
PostgreSQL: the store opens there, the password never shows (not in output, errors, or
doctor), a bad URL or password is one line, and `users db-password` keeps the password in
the OS keyring so the URL can go without one."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import requires_secret_service, run_cli, run_with_secret_service
from tests.postgres_cluster import SUPERUSER_PASSWORD, PostgresCluster


def _output(result) -> str:  # a CompletedProcess
    return result.stdout + result.stderr


def test_every_command_takes_database_before_or_after_it(postgres_url: str,
                                                         stillroom_home: Path) -> None:
    added = run_cli("--database", postgres_url, "users", "add", "ann", home=stillroom_home)
    assert added.returncode == 0, added.stderr
    listed = run_cli("users", "list", "--database", postgres_url, home=stillroom_home)
    assert listed.returncode == 0 and listed.stdout.startswith("ann:"), listed.stderr
    # Nothing went to the data directory's SQLite file.
    assert not (stillroom_home / "stillroom.db").exists()
    assert SUPERUSER_PASSWORD not in _output(added) + _output(listed)


def test_a_wrong_password_is_one_line_without_it(postgres_url: str,
                                                 stillroom_home: Path) -> None:
    wrong = make_url(postgres_url).set(password="not-the-password-4711")
    result = run_cli("users", "list", "--database", wrong.render_as_string(False),
                     home=stillroom_home)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "password authentication failed" in line and "***" in line
    assert "not-the-password-4711" not in _output(result)


@pytest.mark.parametrize(("url", "says"), [
    ("mysql://ann:hunter2secret@db/stillroom", "mysql is not supported"),
    ("postgresql+psycopg2://ann:hunter2secret@db/stillroom", "psycopg 3"),
    ("postgresql+psycopg://ann:hunter2secret@db", "name the database"),
    ("not a url :hunter2secret@", "is not a database URL"),
])
def test_an_unusable_url_is_one_line_without_its_password(url: str, says: str,
                                                         stillroom_home: Path) -> None:
    result = run_cli("--database", url, "users", "list", home=stillroom_home)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert says in line
    assert "hunter2secret" not in _output(result)


def test_doctor_names_the_database_and_who_encrypts_it(postgres_cluster: PostgresCluster,
                                                       stillroom_home: Path) -> None:
    url = postgres_cluster.url("postgres") + "?sslmode=disable"
    report = run_cli("doctor", "--json", "--database", url, home=stillroom_home)
    assert report.returncode == 0, report.stderr
    doctor = json.loads(report.stdout)
    assert doctor["database_url"].startswith("postgresql+psycopg://stillroom_test:***@")
    state = doctor["database_encryption"]["state"]
    assert "encryption at rest is the database server's job" in state
    assert SUPERUSER_PASSWORD not in report.stdout + report.stderr
    remote = make_url(url).set(host="db.office.lan").render_as_string(False)
    remote_state = json.loads(run_cli("doctor", "--json", "--database", remote,
                                      home=stillroom_home).stdout)["database_encryption"]
    assert "may be unencrypted (sslmode=disable)" in remote_state["state"]
    text = run_cli("doctor", "--database", remote.replace("disable", "verify-full"),
                   home=stillroom_home).stdout
    assert "the connection is TLS (sslmode=verify-full)" in text


def test_without_a_keyring_db_password_says_where_else(postgres_url: str,
                                                       stillroom_home: Path) -> None:
    bare = make_url(postgres_url)._replace(password=None).render_as_string(False)
    result = run_cli("users", "db-password", "set", "--database", bare, input="secret\n",
                     home=stillroom_home)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "no OS keyring" in line and "~/.pgpass" in line
    with_password = run_cli("users", "db-password", "set", "--database", postgres_url,
                            input="secret\n", home=stillroom_home)
    assert with_password.returncode == 2 and "leave it out of the URL" in with_password.stderr
    assert SUPERUSER_PASSWORD not in _output(with_password)


KEYRING_STEPS = """
import subprocess, sys
home, url = sys.argv[1], sys.argv[2]
def cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "app.cli.main", *args, "--database", url],
                          input=stdin, capture_output=True, text=True,
                          env={**__import__("os").environ, "STILLROOM_HOME": home})
before = cli("users", "list")
stored = cli("users", "db-password", "set", stdin=sys.argv[3] + "\\n")
after = cli("users", "add", "bo")
removed = cli("users", "db-password", "rm")
gone = cli("users", "list")
print(before.returncode, stored.returncode, after.returncode, removed.returncode,
      gone.returncode)
print(stored.stdout + stored.stderr + after.stderr + gone.stderr)
"""


@requires_secret_service
def test_the_keyring_keeps_the_password_so_the_url_needs_none(postgres_url: str,
                                                              tmp_path: Path) -> None:
    bare = make_url(postgres_url)._replace(password=None).render_as_string(False)
    result = run_with_secret_service(textwrap.dedent(KEYRING_STEPS), str(tmp_path / "data"),
                                     bare, SUPERUSER_PASSWORD, home=tmp_path)
    codes, *said = result.stdout.splitlines()
    # No password anywhere: refused; stored: works; removed: refused again.
    assert codes.split() == ["2", "0", "0", "0", "2"], result.stdout + result.stderr
    assert "stillroom-database" in "\n".join(said)
    assert SUPERUSER_PASSWORD not in result.stdout + result.stderr
