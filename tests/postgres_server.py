"""A throwaway PostgreSQL server for tests, from Debian's ``postgresql`` package.

``postgres_server()`` is a context manager for a session fixture: it runs ``initdb`` in a fresh temp dir, starts
the server on 127.0.0.1 on a free port (unix socket inside the temp dir, durability off for speed), creates the
superuser ``rescue_admin``, the database ``rescue_test`` and the read-only role ``rescue_reader``, and at exit
stops the server (``pg_ctl stop -m immediate``) and removes the temp dir, also when startup or a test failed.

Postgres refuses to run as root, so as root the server binaries run as the ``postgres`` system user (created
by the Debian package) through ``runuser`` (or ``setpriv``); as any other user they run as that user. Clients
(``psql`` here, or any driver) connect over TCP with a password: see ``PostgresServer.admin_dsn`` and
``reader_dsn``.

If the binaries are missing, the fixture skips its tests, except when the ``CI`` env var is set (to anything
but "", "0", "false", "no"): a missing server in CI is a bug, so there it fails loudly.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ADMIN_USER = "rescue_admin"
READER_USER = "rescue_reader"
DATABASE = "rescue_test"
HOST = "127.0.0.1"
PG_ROOT = Path("/usr/lib/postgresql")
OS_USER = "postgres"  # the system user the Debian package creates; used only when we run as root
START_TIMEOUT_S = 60
PORT_ATTEMPTS = 3  # another process may take the free port between our probe and the server's bind

SERVER_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
}


class PostgresUnavailable(RuntimeError):
    """The machine cannot run a Postgres server (binaries, the postgres user or runuser/setpriv missing)."""


class PostgresStartError(RuntimeError):
    """initdb, pg_ctl or the role/database setup failed; the message carries the server log."""


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server: connect with ``admin_dsn`` (superuser) or ``reader_dsn`` (SELECT only)."""

    host: str
    port: int
    database: str
    admin_user: str
    admin_password: str = field(repr=False)
    reader_user: str
    reader_password: str = field(repr=False)
    bin_dir: Path
    data_dir: Path

    @property
    def admin_dsn(self) -> str:
        return self.dsn(self.admin_user, self.admin_password)

    @property
    def reader_dsn(self) -> str:
        return self.dsn(self.reader_user, self.reader_password)

    def dsn(self, user: str, password: str, database: str | None = None) -> str:
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{database or self.database}"

    @property
    def psql(self) -> Path:
        """The ``psql`` of the server's own version (Debian's /usr/bin/psql is a wrapper script)."""
        return self.bin_dir / "psql"

    def execute(self, sql: str, *, database: str | None = None) -> str:
        """Run ``sql`` (one or more statements, each in its own transaction) as the admin; return the rows.

        Rows come back unaligned, tuples only, fields separated by ``|``. Raises ``subprocess.CalledProcessError``
        (with psql's stderr) at the first failing statement.
        """
        return run_psql(self.psql, self.dsn(self.admin_user, self.admin_password, database), sql)


def run_psql(psql: Path, dsn: str, sql: str, *, check: bool = True) -> str:
    """Feed ``sql`` to psql on stdin (so statements run one by one, e.g. CREATE DATABASE works); return stdout."""
    proc = subprocess.run(
        [str(psql), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn],
        input=sql,
        capture_output=True,
        text=True,
        env=client_env(),
        timeout=120,
        check=False,
    )
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc.stdout


def client_env() -> dict[str, str]:
    """The caller's env minus PG* variables (PGSERVICE, PGSSLMODE, ... would change where psql connects)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


def find_bin_dir(root: Path = PG_ROOT) -> Path | None:
    """The ``bin`` dir of the highest installed Debian Postgres version that has initdb, pg_ctl and psql."""
    candidates = []
    for bin_dir in root.glob("*/bin"):
        version = bin_dir.parent.name
        if re.fullmatch(r"\d+(\.\d+)?", version) and all(
            os.access(bin_dir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres", "psql")
        ):
            candidates.append((tuple(int(part) for part in version.split(".")), bin_dir))
    return max(candidates)[1] if candidates else None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _Runner:
    """Runs server binaries as the ``postgres`` user when we are root, else as ourselves."""

    def __init__(self) -> None:
        self.prefix: list[str] = []
        self.uid: int | None = None
        self.gid: int | None = None
        if os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam(OS_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root but there is no {OS_USER!r} system user (apt-get install postgresql)"
            ) from None
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        if runuser := shutil.which("runuser"):
            self.prefix = [runuser, "-u", OS_USER, "--"]
        elif setpriv := shutil.which("setpriv"):
            self.prefix = [setpriv, f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--"]
        else:
            raise PostgresUnavailable("running as root but neither runuser nor setpriv is installed")

    def give(self, path: Path) -> None:
        """Hand ``path`` to the server's user."""
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def run(self, cmd: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        # cwd: the server user cannot enter ours (e.g. /root); LC_ALL=C: the caller's locale may not exist
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_"))} | {"LC_ALL": "C"}
        return subprocess.run(
            [*self.prefix, *cmd],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def can_write(self, path: Path) -> bool:
        if not self.prefix:
            return os.access(path, os.W_OK | os.X_OK)
        return (
            self.run(["test", "-w", str(path), "-a", "-x", str(path)], cwd=Path("/"), timeout=30).returncode
            == 0
        )


def _make_base_dir(runner: _Runner) -> Path:
    """A fresh temp dir the server user owns; falls back to /tmp when $TMPDIR is closed to that user."""
    for parent in dict.fromkeys([tempfile.gettempdir(), "/tmp"]):
        base = Path(tempfile.mkdtemp(prefix="rescue-pg-", dir=parent))
        runner.give(base)
        if runner.can_write(base):
            return base
        shutil.rmtree(base, ignore_errors=True)
    raise PostgresUnavailable(
        f"the {OS_USER!r} user cannot write to a temp dir in {tempfile.gettempdir()} or /tmp"
    )


def _fail(
    what: str, proc: subprocess.CompletedProcess[str] | None, log: Path | None = None
) -> PostgresStartError:
    parts = [what]
    if proc is not None:
        parts.append(f"$ {shlex.join(proc.args)}\nexit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    if log is not None and log.exists():
        parts.append(f"--- server log {log} ---\n{log.read_text(errors='replace')[-4000:]}")
    return PostgresStartError("\n".join(parts))


def _stop(runner: _Runner, bin_dir: Path, data_dir: Path, base: Path) -> None:
    proc = runner.run(
        [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "-t", "30", "stop"], base, 60
    )
    if proc.returncode != 0:
        # pg_ctl could not stop it (or it never started): kill the postmaster if its pid file is still there
        with suppress(OSError, ValueError, IndexError):
            pid = int((data_dir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 9)


@contextmanager
def start_postgres(bin_dir: Path) -> Iterator[PostgresServer]:
    """Start a throwaway server from ``bin_dir``; stop it and delete its files on exit. Raises, never skips."""
    runner = _Runner()
    base = _make_base_dir(runner)
    data_dir, log = base / "data", base / "server.log"
    started = False
    try:
        admin_password, reader_password = secrets.token_hex(16), secrets.token_hex(16)
        pwfile = base / "pwfile"
        pwfile.write_text(admin_password + "\n")
        runner.give(pwfile)
        proc = runner.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                ADMIN_USER,
                f"--pwfile={pwfile}",
                "--auth-local=trust",  # the socket sits in our 0700 temp dir: only its owner and root reach it
                "--auth-host=scram-sha-256",
                "--no-locale",
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            base,
            120,
        )
        pwfile.unlink()
        if proc.returncode != 0:
            raise _fail("initdb failed", proc)
        conf = data_dir / "postgresql.conf"
        settings = SERVER_SETTINGS | {"unix_socket_directories": f"'{base}'"}
        with conf.open("a") as out:  # appending keeps the file's owner
            out.write("\n# rescue test server\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))

        for attempt in range(1, PORT_ATTEMPTS + 1):
            port = free_port()
            proc = runner.run(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data_dir),
                    "-l",
                    str(log),  # also keeps the server off our pipes, else subprocess.run would wait for it
                    "-o",
                    f"-p {port}",
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "start",
                ],
                base,
                START_TIMEOUT_S + 30,
            )
            started = True  # even a failed start may have left a postmaster behind: always try to stop
            if proc.returncode == 0:
                break
            log_text = log.read_text(errors="replace") if log.exists() else ""
            if attempt == PORT_ATTEMPTS or "could not bind" not in log_text:
                raise _fail(f"pg_ctl start failed on port {port}", proc, log)
            _stop(runner, bin_dir, data_dir, base)
            log.unlink(missing_ok=True)

        server = PostgresServer(
            host=HOST,
            port=port,
            database=DATABASE,
            admin_user=ADMIN_USER,
            admin_password=admin_password,
            reader_user=READER_USER,
            reader_password=reader_password,
            bin_dir=bin_dir,
            data_dir=data_dir,
        )
        try:
            server.execute(_setup_sql(reader_password), database="postgres")
        except subprocess.CalledProcessError as exc:
            raise _fail(f"setting up roles and database failed:\n{exc.stderr}", None, log) from None
        yield server
    finally:
        try:
            if started:
                _stop(runner, bin_dir, data_dir, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)


def _setup_sql(reader_password: str) -> str:
    return f"""
CREATE DATABASE {DATABASE};
CREATE ROLE {READER_USER} LOGIN PASSWORD '{reader_password}';
REVOKE ALL ON DATABASE {DATABASE} FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
GRANT CONNECT ON DATABASE {DATABASE} TO {READER_USER};
\\connect {DATABASE}
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO {READER_USER};
GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER_USER};
ALTER DEFAULT PRIVILEGES FOR ROLE {ADMIN_USER} IN SCHEMA public GRANT SELECT ON TABLES TO {READER_USER};
"""


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """For a session fixture: a running server, or ``pytest.skip`` (``pytest.fail`` in CI) if none is installed."""
    bin_dir = find_bin_dir()
    with ExitStack() as stack:
        try:
            if bin_dir is None:
                raise PostgresUnavailable(f"no {PG_ROOT}/*/bin/initdb (apt-get install postgresql)")
            server = stack.enter_context(start_postgres(bin_dir))
        except PostgresUnavailable as exc:
            if in_ci():
                pytest.fail(f"PostgreSQL is required in CI (CI={os.environ['CI']!r}): {exc}", pytrace=False)
            pytest.skip(f"PostgreSQL not available: {exc}")
        yield server


def postgres_fixture(name: str = "postgres"):
    """A session-scoped pytest fixture called ``name`` yielding a ``PostgresServer``."""

    @pytest.fixture(scope="session", name=name)
    def _postgres() -> Iterator[PostgresServer]:
        with postgres_server() as server:
            yield server

    return _postgres
