"""The throwaway Postgres server: it answers, the reader role reads and cannot write, and it cleans up."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import postgres_server as pgmod
from tests.postgres_server import PostgresServer, postgres_server


def psql(server: PostgresServer, dsn: str, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(server.psql), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
        capture_output=True,
        text=True,
        env=pgmod.client_env(),
        timeout=60,
        check=False,
    )


def test_server_answers_on_loopback_with_a_password(postgres: PostgresServer) -> None:
    assert postgres.host == "127.0.0.1"
    assert postgres.admin_dsn == (
        f"postgresql://rescue_admin:{postgres.admin_password}@127.0.0.1:{postgres.port}/rescue_test"
    )
    proc = psql(postgres, postgres.admin_dsn, "select version()")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("PostgreSQL ")
    assert postgres.execute("select current_user, current_setting('fsync')").strip() == "rescue_admin|off"


def test_wrong_password_is_refused(postgres: PostgresServer) -> None:
    proc = psql(postgres, postgres.dsn("rescue_reader", "not-the-password"), "select 1")
    assert proc.returncode != 0
    assert "password authentication failed" in proc.stderr


def test_reader_selects_a_table_the_admin_created(postgres: PostgresServer) -> None:
    postgres.execute(
        "CREATE TABLE feedback_read (id int PRIMARY KEY, body text);"
        "INSERT INTO feedback_read VALUES (1, 'late delivery'), (2, 'great');"
    )
    proc = psql(postgres, postgres.reader_dsn, "SELECT id, body FROM feedback_read ORDER BY id")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["1|late delivery", "2|great"]


def test_reader_cannot_write(postgres: PostgresServer) -> None:
    postgres.execute("CREATE TABLE feedback_write (id int PRIMARY KEY)")
    for sql in (
        "INSERT INTO feedback_write VALUES (1)",
        "UPDATE feedback_write SET id = 2",
        "DELETE FROM feedback_write",
        "CREATE TABLE reader_made (id int)",
        "CREATE TEMP TABLE reader_temp (id int)",
    ):
        proc = psql(postgres, postgres.reader_dsn, sql)
        assert proc.returncode != 0, sql
        assert "permission denied" in proc.stderr, (sql, proc.stderr)
    assert postgres.execute("SELECT count(*) FROM feedback_write").strip() == "0"


def test_reader_cannot_connect_to_other_databases(postgres: PostgresServer) -> None:
    dsn = postgres.dsn(postgres.reader_user, postgres.reader_password, "postgres")
    proc = psql(postgres, dsn, "select 1")
    assert proc.returncode != 0
    assert "permission denied for database" in proc.stderr


def test_server_stops_and_files_go_even_when_the_test_fails() -> None:
    bin_dir = pgmod.find_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries")  # the fixture's own tests already fail in CI
    with pytest.raises(RuntimeError, match="boom"), pgmod.start_postgres(bin_dir) as server:
        base = server.data_dir.parent
        pid_file = server.data_dir / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0])
        raise RuntimeError("boom")
    assert not base.exists()
    assert not Path(f"/proc/{pid}").exists() or "postgres" not in Path(f"/proc/{pid}/cmdline").read_text()


def test_missing_binaries_skip_locally_and_fail_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgmod, "find_bin_dir", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not available"), postgres_server():
        pass
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"), postgres_server():
        pass


def test_highest_version_wins(tmp_path: Path) -> None:
    for version in ("9.6", "13", "15", "notaversion"):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        for tool in ("initdb", "pg_ctl", "postgres", "psql"):
            (bin_dir / tool).touch(mode=0o755)
    (tmp_path / "16" / "bin").mkdir(parents=True)  # incomplete install: ignored
    assert pgmod.find_bin_dir(tmp_path) == tmp_path / "15" / "bin"
