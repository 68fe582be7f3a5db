"""Source connections: read-only for real, errors named, nothing written."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from rescue.data.connect import open_source
from rescue.errors import SourceUnavailable
from rescue.spec import load_spec

AS_OF = date(2026, 11, 1)


@pytest.fixture
def spec(sample_project: Path):
    return load_spec(sample_project)


WRITES = {
    "crm": ["CREATE TABLE hacked (a INT)", "DELETE FROM feedback", "UPDATE feedback SET body = ''"],
    "web-form": [
        "COPY (SELECT 1 AS a) TO '{path}'",
        "ATTACH '{path}.db'",
    ],  # in-memory scratch is not the source
    "app-feedback": ["COPY (SELECT 1 AS a) TO '{path}' (FORMAT parquet)", "ATTACH '{path}.db' AS other"],
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_through_a_source_connection_fail(spec, name: str) -> None:
    source = next(s for s in spec.sources if s.name == name)
    path = spec.path(source.location)
    before = path.read_bytes()
    opened = open_source(spec, source)
    try:
        assert opened.table.count().execute() > 0  # reading works
        for sql in WRITES[name]:
            with pytest.raises(Exception) as info:
                opened.backend.raw_sql(sql.format(path=path))
            assert any(
                word in str(info.value).lower()
                for word in ("readonly", "read-only", "read only", "permission", "disabled")
            )
    finally:
        opened.close()
    assert path.read_bytes() == before
    assert not Path(f"{path}.db").exists()


def test_duckdb_file_is_opened_read_only(spec, tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "wh.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE tickets AS SELECT range AS id, 'text ' || range AS body FROM range(100)")
    before = db.read_bytes()
    source = spec.sources[0].model_copy(
        update={"name": "wh", "kind": "duckdb", "location": str(db), "table": "tickets"}
    )
    opened = open_source(spec, source)
    try:
        assert opened.table.count().execute() == 100
        for sql in ("INSERT INTO tickets VALUES (1, 'x')", "CREATE TABLE t2 (a INT)"):
            with pytest.raises(Exception, match="(?i)read-only|read only"):
                opened.backend.raw_sql(sql)
    finally:
        opened.close()
    assert db.read_bytes() == before


def _source(spec, **update):
    return spec.sources[0].model_copy(update=update)


@pytest.mark.parametrize(
    ("update", "kind", "words"),
    [
        ({"location": "sources/nope.sqlite"}, "missing_file", "not found"),
        ({"table": "no_such_table"}, "no_table", "no_such_table"),
        (
            {
                "name": "w",
                "kind": "csv",
                "location": "sources/web_form_export.csv",
                "encoding": "utf-8",
                "delimiter": ";",
            },
            "encoding",
            "",
        ),
        (
            {
                "name": "w",
                "kind": "csv",
                "location": "sources/web_form_export.csv",
                "encoding": "ascii",
                "delimiter": ";",
            },
            "encoding",
            "not valid ascii at byte",
        ),
    ],
)
def test_bad_sources_raise_named_errors(spec, update, kind, words) -> None:
    with pytest.raises(SourceUnavailable) as info:
        opened = open_source(spec, _source(spec, **update))
        try:  # some drivers only fail on the first read
            opened.table.count().execute()
        finally:
            opened.close()
    assert info.value.kind == kind, info.value
    assert words in str(info.value)


def test_legacy_encoding_is_decoded(spec) -> None:
    source = next(s for s in spec.sources if s.name == "web-form")
    opened = open_source(spec, source)
    try:
        frame = opened.table.to_pandas()
    finally:
        opened.close()
    assert len(frame) == 305 and "decoded from cp1252" in opened.notes[0]
    assert frame["comment"].str.contains("\u2019").any()  # the real curly apostrophes survive


def test_wrong_postgres_dsn_is_a_connection_error(spec, monkeypatch) -> None:
    monkeypatch.setenv("RESCUE_BAD_DSN", "postgresql://nobody:pw@127.0.0.1:1/none")
    source = _source(spec, name="pg", kind="postgres", location=None, table="t", dsn=spec.sources[0].dsn)
    from rescue.spec import SecretRef

    source = source.model_copy(update={"dsn": SecretRef("RESCUE_BAD_DSN")})
    with pytest.raises(SourceUnavailable) as info:
        open_source(spec, source, timeout_s=3)
    assert info.value.kind == "connection"
    assert "pw@" not in str(info.value)


def test_unset_secret_is_a_credentials_error(spec, monkeypatch) -> None:
    from rescue.spec import SecretRef

    monkeypatch.delenv("RESCUE_UNSET_DSN", raising=False)
    source = _source(spec, name="pg", kind="postgres", location=None, table="t").model_copy(
        update={"dsn": SecretRef("RESCUE_UNSET_DSN")}
    )
    with pytest.raises(SourceUnavailable) as info:
        open_source(spec, source)
    assert info.value.kind == "credentials" and "RESCUE_UNSET_DSN" in str(info.value)


class _Api(BaseHTTPRequestHandler):
    records: ClassVar[list[dict]] = [
        {"id": i, "text": f"review {i} &amp; more", "email": f"p{i}@example.org"} for i in range(30)
    ]

    def do_GET(self) -> None:
        if self.path.startswith("/feedback"):
            if self.headers.get("Authorization") != "Bearer t0ken-value":
                self.send_response(401)
                self.end_headers()
                return
            body = json.dumps({"data": self.records, "next": None}).encode()
            self.send_response(200)
        else:
            body = b"{"
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        raise AssertionError("the audit sent a POST to a source")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_source_with_header_from_env(spec, api, monkeypatch) -> None:
    from rescue.spec import SecretRef

    monkeypatch.setenv("RESCUE_API_TOKEN", "Bearer t0ken-value")
    source = _source(spec, name="api", kind="http", location=f"{api}/feedback", table=None).model_copy(
        update={"headers": {"Authorization": SecretRef("RESCUE_API_TOKEN")}}
    )
    opened = open_source(spec, source)
    try:
        assert opened.table.count().execute() == 30
    finally:
        opened.close()
    monkeypatch.setenv("RESCUE_API_TOKEN", "Bearer wrong")
    with pytest.raises(SourceUnavailable, match="HTTP 401"):
        open_source(spec, source)
    bad = copy.copy(source).model_copy(update={"location": f"{api}/broken"})
    with pytest.raises(SourceUnavailable) as info:
        open_source(spec, bad)
    assert info.value.kind == "format"


def test_any_ibis_backend_by_url(spec, tmp_path: Path, monkeypatch) -> None:
    import duckdb

    from rescue.data.picture import profile_source
    from rescue.spec import SecretRef

    db = tmp_path / "lake.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE events AS SELECT range AS id, 'e&amp;' || range AS body FROM range(50)")
    monkeypatch.setenv("RESCUE_IBIS_URL", f"duckdb://{db}?read_only=true")
    source = _source(spec, name="lake", kind="ibis", location=None, table="events", id_column="id", text_column="body",
                     timestamp_column=None).model_copy(update={"dsn": SecretRef("RESCUE_IBIS_URL")})  # fmt: skip
    entry, _ = profile_source(spec, source, AS_OF, probes=3)
    assert entry["status"] == "ok", entry["error"]
    assert entry["rows"] == 50 and entry["profile"]["body"]["html_entities"] == 50
    assert "read-only is enforced by the credentials" in entry["notes"][0]
    assert str(db) not in entry["location"]  # the URL is a secret reference


def test_read_texts_of_some_ids_filters_where_the_data_lives(sample_project: Path) -> None:
    from rescue.data.connect import read_texts

    spec = load_spec(sample_project)
    every = {s.name: read_texts(spec, s) for s in spec.sources}
    for source in spec.sources:
        wanted = [*sorted(every[source.name]["item_id"])[:3], "no-such-id"]
        some = read_texts(spec, source, ids=wanted)
        assert sorted(some["item_id"]) == sorted(i for i in every[source.name]["item_id"] if i in wanted)
        assert set(some["text"]) <= set(every[source.name]["text"])
    assert len(read_texts(spec, spec.sources[0], ids=[])) == 0


AWKWARD = (
    "crm #1 ?x=1 %41 [ä]*"  # a fragment, a query, a percent escape, glob characters, a space and unicode
)


def test_file_sources_with_awkward_names_are_read_as_they_are_and_never_written(
    sample_project: Path, sample_spec_data
) -> None:
    import hashlib

    import duckdb
    import pandas as pd
    import yaml

    sources = sample_project / "sources"
    data = copy.deepcopy(sample_spec_data)
    for entry in data["sources"]:
        original = sample_project / entry["location"]
        renamed = original.rename(sources / f"{AWKWARD}{original.suffix}")
        entry["location"] = f"sources/{renamed.name}"
        # decoys: a file the glob characters would match, and the name as it reads with its '#…' fragment cut off
        (sources / f"crm #1 ?x=1 %41 [a]x{original.suffix}").write_bytes(b"decoy")
    (sources / "crm ").write_bytes(b"decoy")
    con = duckdb.connect(str(sources / f"{AWKWARD}.duckdb"))
    con.register("frame", pd.read_parquet(sources / f"{AWKWARD}.parquet"))
    con.execute("CREATE TABLE feedback AS SELECT * FROM frame")
    con.close()
    data["sources"].append(
        {"name": "duck", "kind": "duckdb", "location": f"sources/{AWKWARD}.duckdb", "table": "feedback"}
    )
    (sample_project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    spec = load_spec(sample_project)

    def tree() -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sources.iterdir()}

    before = tree()
    for source in spec.sources:
        opened = open_source(spec, source)
        try:
            assert opened.table.count().execute() > 1, source.name  # the source itself, never a decoy
        finally:
            opened.close()
    assert tree() == before  # nothing written, nothing created beside the sources


def test_a_csv_line_over_the_reader_limit_names_the_limit_and_can_raise_it(
    sample_project: Path, sample_spec_data
) -> None:
    import yaml

    (sample_project / "sources" / "wide.csv").write_text("id,body\n1," + "x" * 2_500_000 + "\n2,short\n")
    data = copy.deepcopy(sample_spec_data)
    data["sources"] = [{"name": "wide", "kind": "csv", "location": "sources/wide.csv"}]
    (sample_project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(sample_project)
    with pytest.raises(SourceUnavailable) as info:
        opened = open_source(spec, spec.sources[0])
        try:
            opened.table.count().execute()
        finally:
            opened.close()
    assert "Maximum line size" in str(info.value) and "max_line_bytes" in str(info.value)
    data["sources"][0]["max_line_bytes"] = 4_000_000
    (sample_project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    spec = load_spec(sample_project)
    opened = open_source(spec, spec.sources[0])
    try:
        assert opened.table.count().execute() == 2
    finally:
        opened.close()


def test_file_sources_get_a_bounded_memory_limit_and_a_private_spill_folder(
    spec, tmp_path: Path, monkeypatch
) -> None:
    import os
    import stat
    import tempfile

    import duckdb

    from rescue.data.connect import MEMORY_LIMIT_ENV, duckdb_memory_limit, machine_memory_bytes

    def shown(size: str) -> str:  # how DuckDB itself shows a limit of ``size``
        con = duckdb.connect()
        con.execute(f"SET memory_limit = '{size}'")
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    rule = duckdb_memory_limit()
    limit_bytes = int(rule.removesuffix("MiB")) << 20
    memory = machine_memory_bytes()
    assert memory is not None and 256 << 20 <= limit_bytes <= min(1 << 30, max(memory // 4, 256 << 20))
    # a cgroup limit below the RAM is the memory; "max" is no limit
    (tmp_path / "memory.max").write_text("536870912\n")
    (tmp_path / "unlimited").write_text("max\n")
    assert machine_memory_bytes([tmp_path / "memory.max", tmp_path / "unlimited"]) == 512 << 20
    assert machine_memory_bytes([tmp_path / "unlimited", tmp_path / "absent"]) == memory

    for name in ("web-form", "app-feedback"):  # csv, parquet
        source = next(s for s in spec.sources if s.name == name)
        for override, expected in ((None, rule), ("300MB", "300MB")):
            if override:
                monkeypatch.setenv(MEMORY_LIMIT_ENV, override)
            opened = open_source(spec, source)
            try:
                con = opened.backend.con
                limit, spill = con.execute(
                    "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
                ).fetchone()
                assert limit == shown(expected), (name, override)
                spill_dir = Path(spill)
                assert spill_dir.is_dir() and spill_dir.parent.name.startswith("rescue-src-")
                assert spill_dir.parent.parent == Path(tempfile.gettempdir())
                assert stat.S_IMODE(os.stat(spill_dir.parent).st_mode) == 0o700
                assert stat.S_IMODE(os.stat(spill_dir).st_mode) == 0o700
                with pytest.raises(Exception, match="lock"):  # a query cannot lift the limit
                    con.execute("SET memory_limit = '10GB'")
                # a query bigger than the limit spills to the folder instead of failing
                if override:
                    spilled = con.execute(
                        "SELECT count(*) FROM (SELECT DISTINCT hash(i) AS h FROM range(20000000) t(i))"
                    ).fetchone()
                    assert spilled == (20_000_000,)
            finally:
                opened.close()
            assert not spill_dir.parent.exists()  # removed with the source
            monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)

    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(SourceUnavailable, match=MEMORY_LIMIT_ENV):
        open_source(spec, next(s for s in spec.sources if s.name == "app-feedback"))


def test_the_file_and_sqlite_backends_load_with_the_module_and_no_other() -> None:
    """A day's kernel started ahead imports rescue.data.connect: DuckDB's and SQLite's Ibis backends are then
    loaded before the first source is opened; the other backends still load only when a source needs them."""
    code = (
        "import sys, rescue.data.connect as c\n"
        "print([f'ibis.backends.{n}' in sys.modules for n in (*c.PRELOADED_BACKENDS, 'postgres', 'pyspark')])"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[True, True, False, False]"
