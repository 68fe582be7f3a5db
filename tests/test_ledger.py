"""The ledger: label events keep their origin in a column of their own, and older ledgers are migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rescue.evalset.labels import current_labels
from rescue.ledger import LEDGER_NAME, Ledger

# label_events as rescue wrote it before label_origin had a column: the origin rode in the comment
OLD_LABEL_EVENTS = """
CREATE TABLE label_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, dataset TEXT NOT NULL, item TEXT NOT NULL, item_hash TEXT NOT NULL,
    labeler TEXT NOT NULL, action TEXT NOT NULL, label TEXT, comment TEXT, undoes INTEGER, created_at TEXT NOT NULL
);
INSERT INTO label_events (dataset, item, item_hash, labeler, action, label, comment, created_at) VALUES
    ('eval_set', 'crm:1', 'h1', 'import:labels.csv', 'label', 'positive', 'label_origin=star rating', 't1'),
    ('eval_set', 'crm:2', 'h2', 'ana', 'label', 'negative', NULL, 't2'),
    ('eval_set', 'crm:2', 'h2', 'ana', 'comment', NULL, 'label_origin=is just what ana typed', 't3');
"""


def test_an_older_ledger_gets_its_label_origin_column(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / LEDGER_NAME)
    con.executescript(OLD_LABEL_EVENTS)
    con.close()
    with Ledger(tmp_path) as ledger:
        events = ledger.label_events("eval_set")
    assert [(e["label_origin"], e["comment"]) for e in events] == [
        ("star rating", None),  # moved out of the comment
        (None, None),
        (None, "label_origin=is just what ana typed"),  # a comment event is a person's words: left alone
    ]
    labels = current_labels(events).set_index("item")
    assert (
        labels.loc["crm:1", "label_origin"] == "star rating"
        and labels.loc["crm:2", "label_origin"] == "human"
    )
    with Ledger(tmp_path) as ledger:  # opening it again changes nothing
        assert ledger.label_events("eval_set") == events


def test_a_new_label_event_records_its_origin(tmp_path: Path) -> None:
    with Ledger(tmp_path) as ledger:
        ledger.add_label_event("eval_set", "crm:3", "h3", "import:labels.csv", "label", "neutral",
                               label_origin="derived: rule")  # fmt: skip
        ledger.add_label_event("eval_set", "crm:4", "h4", "import:labels.csv", "label", "neutral")
        labels = current_labels(ledger.label_events("eval_set")).set_index("item")
    assert (
        labels.loc["crm:3", "label_origin"] == "derived: rule"
        and labels.loc["crm:4", "label_origin"] == "imported"
    )


OLD_CALLS = """
CREATE TABLE calls (
    dataset TEXT NOT NULL, item TEXT NOT NULL, system TEXT NOT NULL, config TEXT NOT NULL, repeat INTEGER NOT NULL,
    input_hash TEXT NOT NULL, output TEXT, error TEXT, error_kind TEXT, latency_ms REAL, attempts INTEGER NOT NULL,
    tokens_in INTEGER, tokens_out INTEGER, cost_eur REAL, created_at TEXT NOT NULL,
    PRIMARY KEY (dataset, item, system, config, repeat)
);
INSERT INTO calls VALUES ('d', 'i1', 'poc', 'c', 0, 'h', '{"label": "a"}', NULL, NULL, 1.5, 1, NULL, NULL, NULL, 't');
"""


def test_a_call_keeps_the_raw_answer_and_an_older_ledger_gets_its_column(tmp_path: Path) -> None:
    from rescue.ledger import Call

    con = sqlite3.connect(tmp_path / LEDGER_NAME)
    con.executescript(OLD_CALLS)
    con.close()
    with Ledger(tmp_path) as ledger:
        old = ledger.done("d", "poc", "c")["i1"]
        assert old.output == {"label": "a"} and old.raw is None
        raw = {"id": "c1", "model": "gpt-4o-mini", "choices": [{"message": {"content": "b"}}]}
        ledger.record(Call("d", "i2", "poc", "c", 0, "h2", "b", None, None, 2.0, 1, 40, 5, raw=raw))
    with Ledger(tmp_path) as ledger:
        again = ledger.done("d", "poc", "c")
    assert again["i2"].output == "b" and again["i2"].raw == raw and again["i1"].output == {"label": "a"}
