"""Every page is safe to open: a script planted in anything a user or a source controls is shown, never run.

Both sample projects are copied, a payload is planted in every text field a user or a source controls
(source rows, PoC outputs, labels, grades, spec strings, attestations, sign-offs), the week is run and every
page is opened in Debian's chromium (driven by playwright; no browser is downloaded). Each payload would
push its id onto ``window.__pwned`` if it ran; each starts with a visible marker ``ZQX<id>`` that must be
shown on a page as text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
import yaml

from tests.browser.chromium import launched
from tests.conftest import copy_rag_sample, copy_sample

RUN = "(window.__pwned=window.__pwned||[]).push('{id}')"
KINDS = [
    '<img src=x onerror="' + RUN + '">',
    "<script>" + RUN + "</script>",
    '<svg onload="' + RUN + '"></svg>',
    "[link{id}](javascript:" + RUN + ")",
    '</td></tr></table><img src=x onerror="' + RUN + '">',
    '<a href="javascript:' + RUN + '">a{id}</a>',
    '<details open ontoggle="' + RUN + '">d</details>',
    '<input autofocus onfocus="' + RUN + '">',
]


class Payloads:
    """Numbered payloads, each remembering where it was planted."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.planted: dict[str, str] = {}

    def __call__(self, where: str) -> str:
        n = len(self.planted)
        pid = f"{self.prefix}{n:02d}"
        self.planted[pid] = where
        kind = KINDS[n % len(KINDS)].replace("{id}", pid)
        return f"ZQX{pid} {kind}"


def _edit_yaml(path: Path, edit: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _sqlite(path: Path, table: str, column: str, key: str, p: Payloads, every: int, where: str) -> None:
    con = sqlite3.connect(path)
    keys = [r[0] for r in con.execute(f"SELECT {key} FROM {table} ORDER BY {key}")]
    for k in keys[::every]:
        con.execute(f"UPDATE {table} SET {column} = ? || ' ' || {column} WHERE {key} = ?", (p(where), k))
    con.commit()
    con.close()


def _frame_cells(frame: pd.DataFrame, column: str, p: Payloads, every: int, where: str, append: bool = True):
    for i in frame.index[::every]:
        value = p(where)
        frame.loc[i, column] = (
            f"{value} {frame.loc[i, column]}" if append else value
        )  # pages shorten long texts


def plant_pharma(project: Path, p: Payloads) -> None:
    # source rows: a text cell in each of the three sources
    _sqlite(project / "sources/crm.sqlite", "feedback", "body", "feedback_id", p, 1, "crm row")
    csv = project / "sources/web_form_export.csv"
    web = pd.read_csv(csv, sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    _frame_cells(web, "comment", p, 15, "web-form row")
    web.to_csv(csv, sep=";", encoding="cp1252", index=False)
    parquet = project / "sources/app_feedback.parquet"
    app = pd.read_parquet(parquet)
    _frame_cells(app, "text", p, 15, "app-feedback row")
    app.to_parquet(parquet, index=False)
    demo = pd.read_csv(project / "demo.csv", dtype=str, keep_default_na=False)
    _frame_cells(demo, "text", p, 2, "demo example")
    demo.to_csv(project / "demo.csv", index=False)
    # labels
    labels = pd.read_csv(project / "labels.csv", dtype=str, keep_default_na=False)
    _frame_cells(labels, "label_origin", p, 97, "label_origin", append=False)
    labels.to_csv(project / "labels.csv", index=False)
    # PoC output: the classifier routes some texts to a team named by a payload
    nb_path = project / "poc/triage_poc.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    team = p("PoC output (team)")
    for cell in nb.cells:
        if "def classify(" in cell.source:
            cell.source = cell.source.replace(
                "    confidence = round(",
                f"    if len(text) % 5 == 0:\n        team = {team!r}\n    confidence = round(",
            )
    nbformat.write(nb, nb_path)

    # spec strings
    def spec(data: dict[str, Any]) -> None:
        data["use_case"] = p("use_case") + " " + data["use_case"]
        data["owner"].update(name=p("owner name"), team=p("owner team"), role=p("owner role"),
                             evidence=p("owner evidence"))  # fmt: skip
        data["sources"][0]["owner"].update(name=p("source owner name"), team=p("source owner team"),
                                           evidence=p("source owner evidence"))  # fmt: skip
        data["sources"][1]["owner"]["name"] = p("source owner name (web-form)")
        data["integration"][0]["description"] = p("integration description")
        data["compliance"]["providers"].append(
            {
                "name": p("provider name"),
                "region": "us-east-1",
                "receives_personal_data": True,
                "dpa_signed": False,
            }
        )

    _edit_yaml(project / "rescue.yaml", spec)

    def attestations(data: dict[str, Any]) -> None:
        for a in data["attestations"]:
            a.update(by=p("attestation by"), role=p("attestation role"), note=p("attestation note"))

    _edit_yaml(project / "attestations.yaml", attestations)


def _traces(path: Path, p: Payloads) -> None:
    """Payloads in what production traces record: a model name, a destination host and an error kind."""
    import gzip

    planted = {
        "gen_ai.response.model": "trace model",
        "server.address": "trace host",
        "error.type": "trace error kind",
    }
    done: set[str] = set()
    lines = []
    for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
        doc = json.loads(line)
        for rs in doc.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for span in ss.get("spans", []):
                    keys = {a["key"] for a in span.get("attributes", [])}
                    if not keys & {"gen_ai.request.model", "gen_ai.response.model"}:
                        continue  # an LLM call's span: the one Day 2 reads
                    for attr in span.get("attributes", []):
                        if (
                            attr["key"] in planted
                            and attr["key"] not in done
                            and "stringValue" in attr["value"]
                        ):
                            attr["value"]["stringValue"] = p(planted[attr["key"]])
                            done.add(attr["key"])
        lines.append(json.dumps(doc))
    assert done == set(planted), done
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))


def plant_rag(project: Path, p: Payloads) -> None:
    _sqlite(project / "sources/reviews.sqlite", "reviews", "review", "review_id", p, 20, "review row")
    _traces(project / "sources/traces.jsonl.gz", p)
    questions = pd.read_csv(project / "questions.csv", dtype=str, keep_default_na=False)
    _frame_cells(questions, "reference", p, 1, "reference answer")
    _frame_cells(questions, "reference_origin", p, 11, "reference origin", append=False)
    questions.to_csv(project / "questions.csv", index=False)
    grades = pd.read_csv(project / "grades.csv", dtype=str, keep_default_na=False)
    _frame_cells(grades, "label_origin", p, 23, "grade label_origin", append=False)
    grades.to_csv(project / "grades.csv", index=False)
    demo = pd.read_csv(project / "demo.csv", dtype=str, keep_default_na=False)
    _frame_cells(demo, "reference", p, 2, "demo reference")
    demo.to_csv(project / "demo.csv", index=False)
    # PoC output: the stub's answers carry a payload
    stub = project / "poc/stub_server.py"
    answer = p("PoC answer")
    text = stub.read_text(encoding="utf-8")
    assert '"answer": f\'{summary} One patient wrote:' in text
    text = text.replace(
        '"answer": f"I could not find', f'"answer": {p("PoC answer (not found)")!r} + f" I could not find'
    )
    stub.write_text(
        text.replace("\"answer\": f'{summary} One patient wrote:", f"\"answer\": {answer!r} + f' {{summary}} One patient wrote:"),
        encoding="utf-8",
    )  # fmt: skip

    def spec(data: dict[str, Any]) -> None:
        data["use_case"] = p("use_case") + " " + data["use_case"]
        data["owner"].update(name=p("owner name"), team=p("owner team"), role=p("owner role"),
                             evidence=p("owner evidence"))  # fmt: skip
        data["sources"][0]["owner"].update(name=p("source owner name"), team=p("source owner team"))
        for criterion in data["eval"]["rubric"]:
            criterion["description"] = p(f"rubric {criterion['name']}") + " " + criterion["description"]
        data["compliance"]["providers"] = [
            {
                "name": p("provider name"),
                "region": "eu-west-1",
                "receives_personal_data": False,
                "dpa_signed": True,
            }
        ]

    _edit_yaml(project / "rescue.yaml", spec)


def run(project: Path, out: Path, p: Payloads) -> list[Path]:
    from rescue.owner import sign_off
    from rescue.spec import load_spec
    from rescue.week import run_week

    run_week(project, out, days=[1, 2, 3, 4], progress=False)
    spec = load_spec(project)
    for artifact, scope in (("eval_position", "eval plan and acceptance thresholds"), ("gap", "compliance")):
        sign_off(spec, out, artifact, scope, p(f"sign-off by ({artifact})"), "https://wiki.example.com/signed",
                 role=p(f"sign-off role ({artifact})"))  # fmt: skip
    run_week(project, out, days=[5], progress=False)
    return sorted(out.glob("*.html"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as browser:
        yield browser


CLICK_LINKS = """() => {
  const links = [...document.querySelectorAll('a[href], area[href]')];
  // file: links are the audit's own pages (the nav): following one would leave the page under test
  const risky = links.filter(a => !['http:', 'https:', 'mailto:', 'file:'].includes(a.protocol));
  for (const a of risky) { try { a.click(); } catch (e) {} }
  return links.map(a => a.protocol).filter(p => !['http:', 'https:', 'mailto:', 'file:'].includes(p));
}"""


def open_page(browser: Any, page_path: Path) -> dict[str, Any]:
    """Open one page offline: what ran, which dialogs fired, what was fetched and the visible text."""
    context = browser.new_context(java_script_enabled=True)
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url), route.abort())
                  if not route.request.url.startswith(("file:", "data:")) else route.continue_())  # fmt: skip
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    bad_protocols = page.evaluate(CLICK_LINKS)
    page.wait_for_timeout(300)
    ran = page.evaluate("() => window.__pwned || []")
    text = page.evaluate("() => document.body.innerText")
    context.close()
    return {"ran": ran, "dialogs": dialogs, "requests": requests, "links": bad_protocols, "text": text}


def _check(browser: Any, pages: list[Path], p: Payloads, expected_days: int = 5) -> None:
    # the five days' pages and the audit's home page (index.html), which carries spec strings too
    assert len(pages) == expected_days + 1 and any(page.name == "index.html" for page in pages), pages
    problems: dict[str, Any] = {}
    shown: set[str] = set()
    for page in pages:
        seen = open_page(browser, page)
        if seen["ran"] or seen["dialogs"] or seen["links"] or seen["requests"]:
            problems[page.name] = {k: seen[k] for k in ("ran", "dialogs", "links", "requests")}
        shown |= {pid for pid in p.planted if f"ZQX{pid}" in seen["text"]}
    fired = sorted({pid for v in problems.values() for pid in v["ran"]})
    assert not problems, (
        f"{sum(len(v['ran']) for v in problems.values())} payloads ran "
        f"({', '.join(f'{pid} in {p.planted[pid]}' for pid in fired)}): {json.dumps(problems)[:3000]}"
    )
    # the payloads are shown as text, not dropped: every kind of field planted shows up on some page
    planted_kinds = {_kind(where) for where in p.planted.values()}
    shown_kinds = {_kind(p.planted[pid]) for pid in shown}
    missing = sorted(planted_kinds - shown_kinds - NOT_ON_A_PAGE)
    assert not missing, f"planted but shown on no page: {missing}"


def _kind(where: str) -> str:
    return "source row" if where.endswith(" row") else where.split(" (")[0]


# fields no page shows (they reach only the widgets, the artifacts or the ledger)
NOT_ON_A_PAGE = {
    "demo example", "demo reference", "owner role", "owner evidence", "integration description",
    "sign-off role", "grade label_origin",
}  # fmt: skip


@pytest.mark.slow
def test_pharma_pages_are_safe(tmp_path: Path, browser: Any) -> None:
    p = Payloads("A")
    project = copy_sample(tmp_path, "pharma-feedback")
    plant_pharma(project, p)
    _check(browser, run(project, tmp_path / "out", p), p)


@pytest.mark.slow
def test_rag_pages_are_safe(tmp_path: Path, browser: Any) -> None:
    p = Payloads("B")
    project = copy_rag_sample(tmp_path)
    plant_rag(project, p)
    _check(browser, run(project, tmp_path / "out", p), p)
