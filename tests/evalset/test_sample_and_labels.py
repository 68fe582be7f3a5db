"""Sampling (strata, dedupe, weights) and label persistence through the widget and the ledger."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rescue.evalset import build as build_eval_set
from rescue.evalset import prepare_sample
from rescue.evalset import sample as sampling
from rescue.evalset.labels import DATASET, current_labels, disagreements, resolve
from rescue.evalset.widget import LabelingWidget
from rescue.ledger import Ledger
from rescue.spec import load_spec


def _population() -> pd.DataFrame:
    rows = [
        {"item_id": str(i), "source": "a" if i < 800 else "b", "text": f"review number {i}"}
        for i in range(1000)
    ]
    rows.append({"item_id": "x1", "source": "a", "text": "review number 5"})  # exact duplicate
    rows.append(
        {"item_id": "x2", "source": "b", "text": "REVIEW &#039;number&#039; 7!"}
    )  # near duplicate of 7
    rows.append({"item_id": "x3", "source": "b", "text": "Love it!"})  # a demo example
    return pd.DataFrame(rows)


def test_dedupe_exact_near_and_demo() -> None:
    kept, counts = sampling.deduplicate(_population(), demo_texts=["love it"])
    assert counts == {"exact_duplicates": 1, "near_duplicates": 1, "demo_examples_found": 1}
    assert len(kept) == 1000 and "item_hash" in kept.columns


def test_strata_and_weights() -> None:
    kept, _ = sampling.deduplicate(_population())
    drawn = sampling.draw(kept, 100, ["source"], minimum=30)
    counts = drawn["stratum"].value_counts().to_dict()
    assert counts == {"a": 70, "b": 30}  # proportional would give b 20: the floor lifts it to 30
    weights = drawn.groupby("stratum")["weight"].first().to_dict()
    sizes = kept["source"].value_counts().to_dict()
    assert weights["a"] == pytest.approx(sizes["a"] / 70) and weights["b"] == pytest.approx(sizes["b"] / 30)
    assert (drawn.groupby("stratum")["weight"].sum().round().to_dict()) == {
        k: float(v) for k, v in sizes.items()
    }
    again = sampling.draw(kept, 100, ["source"], minimum=30)
    assert list(again["item_id"]) == list(drawn["item_id"])  # seeded: the same sample every time


def test_precision_table() -> None:
    table = sampling.precision_table([100, 400])
    assert list(table["± points (95%)"]) == [9.8, 4.9]
    assert sampling.size_for(0.05) == 385


def test_sample_project_sample_is_kept_and_reused(sample_project: Path, tmp_path: Path) -> None:
    spec = load_spec(sample_project)
    first, info = prepare_sample(spec, tmp_path, 120)
    assert not info["reused"] and info["exact_duplicates"] == 6  # 5 double submits + 1 review under two names
    assert set(first["source"]) == {"crm", "web-form", "app-feedback"}
    second, info2 = prepare_sample(spec, tmp_path, 50)
    assert info2["reused"] and list(second["key"]) == list(first["key"])


def test_widget_labels_survive_a_new_kernel(sample_project: Path, tmp_path: Path) -> None:
    spec = load_spec(sample_project)
    frame, _ = prepare_sample(spec, tmp_path, 40)
    w = LabelingWidget(spec, tmp_path, frame, labeler="ana")
    first = w.current["key"]
    w.buttons[0].click()  # positive
    second = w.current["key"]
    w.skip_button.click()
    third = w.current["key"]
    w.buttons[2].click()
    w.undo_button.click()  # takes back the third
    assert w.current["key"] == third
    w.flag_button.click()  # flag and comment stay on the item...
    w.comment.value = "sarcasm?"
    assert w.current["key"] == third
    w.buttons[1].click()  # ...then neutral instead
    w.ledger.close()
    # a new kernel: a fresh widget and ledger handle see everything and resume after the last item
    w2 = LabelingWidget(spec, tmp_path, frame, labeler="ana")
    assert w2.current["key"] not in {first, second, third}
    with Ledger(tmp_path) as ledger:
        labels = current_labels(ledger.label_events(DATASET)).set_index("item")
    assert labels.loc[first, "label"] == spec.eval.classes[0]
    assert bool(labels.loc[second, "skipped"]) and pd.isna(labels.loc[second, "label"])
    assert labels.loc[third, "label"] == spec.eval.classes[1]
    assert bool(labels.loc[third, "flagged"]) and labels.loc[third, "comment"] == "sarcasm?"
    assert labels.loc[first, "label_origin"] == "human"


def test_second_labeler_disagreement_and_adjudication(sample_project: Path, tmp_path: Path) -> None:
    spec = load_spec(sample_project)
    frame, _ = prepare_sample(spec, tmp_path, 30)
    a = LabelingWidget(spec, tmp_path, frame, labeler="ana")
    # ben labels, blind, the five items ana sees first (the widget shows items in a seeded, mixed order)
    b = LabelingWidget(spec, tmp_path, frame, labeler="ben", items=list(a.sample["key"][:5]))
    assert "ana" not in b.item_box.value  # blind: no other labeler's label is shown
    for _ in range(5):
        a.buttons[0].click()
    for i in range(5):
        b.buttons[0 if i < 4 else 2].click()
    with Ledger(tmp_path) as ledger:
        labels = current_labels(ledger.label_events(DATASET))
    open_items = disagreements(labels)
    assert len(open_items) == 1
    item = open_items["item"].iloc[0]
    assert item not in set(resolve(labels)["item"])
    adj = LabelingWidget(spec, tmp_path, frame, labeler="adjudicator:kim", items=[item])
    adj.buttons[2].click()
    with Ledger(tmp_path) as ledger:
        labels = current_labels(ledger.label_events(DATASET))
    assert (
        disagreements(labels).empty
        and resolve(labels).set_index("item").loc[item, "label"] == spec.eval.classes[2]
    )


def test_batch_mode_imports_and_exports(sample_project: Path, tmp_path: Path) -> None:
    spec = load_spec(sample_project)
    report = build_eval_set(spec, tmp_path, import_existing=True, n=90)
    assert report["labels"]["coverage"] == 1.0 and report["labels"]["origin"] == {"patient_star_rating": 90}
    assert report["labels"]["imported_this_run"] == 90
    again = build_eval_set(spec, tmp_path, import_existing=True)
    assert again["labels"]["imported_this_run"] == 0  # nothing imported twice
    exported = pd.read_parquet(tmp_path / "eval_set.parquet")
    assert {
        "source",
        "item_id",
        "sentiment",
        "stratum",
        "weight",
        "labelers",
        "labeled_at",
        "item_hash",
        "label_origin",
    } <= set(exported.columns)


def test_a_reused_sample_reports_its_draw_and_a_changed_one_is_refused(
    sample_project: Path, tmp_path: Path
) -> None:
    from rescue.errors import InputFileError

    spec = load_spec(sample_project)
    out = tmp_path / "out"
    drawn, info = prepare_sample(spec, out)
    again, reused = prepare_sample(spec, out)
    assert reused["reused"] and reused["population"] == info["population"] > len(
        drawn
    )  # what the draw measured
    assert reused["exact_duplicates"] == info["exact_duplicates"] and len(again) == len(drawn)
    assert not list(out.glob("*.tmp"))  # written atomically
    path = out / "eval_sample.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:151]))  # cut to 150 items, as a crash halfway through a write would
    with pytest.raises(InputFileError, match=rf"changed since it was drawn \({len(drawn)} items\)"):
        prepare_sample(spec, out)


def test_an_unreadable_source_is_left_out_of_the_sample_with_a_finding(
    sample_project: Path, tmp_path: Path
) -> None:
    (sample_project / "sources" / "crm.sqlite").write_bytes(b"not a database")
    spec = load_spec(sample_project)
    report = build_eval_set(spec, tmp_path / "out", import_existing=True)
    left_out = report["sample"]["sources_left_out"]
    assert [g["source"] for g in left_out] == ["crm"] and left_out[0]["reason"]
    assert {s["stratum"] for s in report["sample"]["strata"]} == {"app-feedback", "web-form"}
    from rescue.evalset import summary_markdown

    assert "Source `crm` could not be read" in summary_markdown(report)


def test_the_widget_mixes_the_strata_shows_progress_and_shows_a_failed_save(
    sample_project: Path, tmp_path: Path
) -> None:
    spec = load_spec(sample_project)
    sample, _ = prepare_sample(spec, tmp_path)
    widget = LabelingWidget(spec, tmp_path, sample, labeler="ana")
    first_ten = list(widget.sample["stratum"].head(10))
    assert len(set(first_ten)) > 1  # not 69 items of one source before any other
    widget.give(widget.classes[0])
    assert widget.bar.value == 1 and widget.bar.max == len(sample)
    widget.ledger.close()  # the ledger cannot be written now, as when another process holds it locked
    widget.give(widget.classes[0])
    assert "Not saved" in widget.status.value


def test_a_report_with_no_label_says_how_to_label(sample_project: Path, tmp_path: Path) -> None:
    from rescue.evalset import summary_markdown

    data = load_spec(sample_project).model_dump(mode="json", by_alias=True, exclude_none=True)
    data["eval"].pop("labels", None)
    import yaml

    (sample_project / "rescue.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    report = build_eval_set(load_spec(sample_project), tmp_path, import_existing=True)
    assert report["labels"]["labeled_items"] == 0 and "No item is labeled yet" in summary_markdown(report)


def test_the_eval_set_says_how_many_items_day_4_scores(sample_project: Path, tmp_path: Path) -> None:
    """The sample's "300 of 300 labeled" and Day 4's "974 labeled production items" are both true: the page
    says why (the labels file labels every production item; the sample adds the ones labeled only here)."""
    from rescue.evalset import build, summary_markdown
    from rescue.evalset.items import load_eval_items

    spec = load_spec(sample_project)
    report = build(spec, tmp_path, import_existing=True)
    lab = report["labels"]
    assert (
        lab["scored_in_day4"]
        == len(load_eval_items(spec, tmp_path))
        == lab["from_labels_file"]
        > lab["labeled_items"]
    )
    assert f"Day 4 scores **{lab['scored_in_day4']:,} labeled production items**" in summary_markdown(report)
