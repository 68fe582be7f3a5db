"""Shared fixtures: a fresh copy of the sample project, and spec files written from dicts."""

from __future__ import annotations

import copy
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.postgres_server import PostgresServer, postgres_server

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "pharma-feedback"
FIXTURES = Path(__file__).parent / "fixtures"

# fixture notebooks are inputs for the week runner's tests, not workbooks for nbval to check
collect_ignore = ["fixtures"]


def copy_sample(base: Path, name: str = "pharma-feedback") -> Path:
    """A private copy of the sample project under ``base`` (tests may edit it)."""
    dest = base / name
    shutil.copytree(SAMPLE, dest)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_rag_sample(base: Path, api_key_env: str | None = None) -> Path:
    """A private copy of the drug-answers sample whose stub listens on a free port (tests run side by side);
    with ``api_key_env`` the stub requires that key and the spec sends it."""
    dest = base / "drug-answers"
    shutil.copytree(REPO / "sample_data" / "drug-answers", dest)
    text = (dest / "rescue.yaml").read_text(encoding="utf-8").replace("8765", str(free_port()))
    if api_key_env:
        text = text.replace('"{port}"]', f'"{{port}}", --api-key-env, {api_key_env}]')
        data = yaml.safe_load(text)
        for system in (data["poc"], data["eval"]["baseline_system"], data["eval"]["judge"]):
            system["api_key"] = "${" + api_key_env + "}"
        text = yaml.safe_dump(data, sort_keys=False)
    (dest / "rescue.yaml").write_text(text, encoding="utf-8")
    return dest


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """A private copy of the sample project (tests may edit it)."""
    return copy_sample(tmp_path)


@pytest.fixture
def sample_spec_data() -> dict[str, Any]:
    return yaml.safe_load((SAMPLE / "rescue.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def write_spec(sample_project: Path) -> Callable[[Any], Path]:
    """Write ``data`` as the sample copy's rescue.yaml (its files stay) and return the project folder."""

    def write(data: Any) -> Path:
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        (sample_project / "rescue.yaml").write_text(text, encoding="utf-8")
        return sample_project

    return write


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server on 127.0.0.1 (tests/postgres_server.py); skips locally if none, fails in CI."""
    with postgres_server() as server:
        yield server


OWNER_ON_CUSTOMER_TEAM = {
    "name": "Sam Example",
    "team": "customer-care",
    "on_customer_team": True,
    "backup": "Kim Example",
}


def with_owner_and_eu_provider(
    data: dict[str, Any], owner: bool = True, region: bool = True
) -> dict[str, Any]:
    """The sample spec with the two spec-level blockers fixed: an owner on the customer team, an EU provider."""
    data = copy.deepcopy(data)
    if owner:
        data["owner"] = dict(OWNER_ON_CUSTOMER_TEAM)
    if region:
        data["compliance"]["providers"][0]["region"] = "eu-west-1"
    return data


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A real Spark session in local mode, started once per test session (``local[2]``, no UI, two shuffle
    partitions, UTC, no jars fetched); skips locally without pyspark or Java, fails in CI."""
    import os

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("pyspark is not installed (pip install -e '.[test]')")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        if os.environ.get("CI"):
            pytest.fail("Spark needs Java 17 (apt-get install openjdk-17-jre-headless)")
        pytest.skip("no Java for Spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("rescue-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.jars.ivy", str(Path(os.environ.get("TMPDIR", "/tmp")) / "rescue-spark-ivy"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
