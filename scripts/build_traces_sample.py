"""Build ``sample_data/drug-answers/sources/traces.jsonl.gz``: the assistant's production traces, for Day 2.

A month of the drug-answers assistant in production as OTLP JSON (the OpenTelemetry Collector's file exporter,
gzipped): :data:`N_CALLS` LLM calls and their ``invoke_agent`` parent spans, written by
:func:`rescue.traces.generate_otlp` from the real review texts of the sample's own ``reviews`` source (the
source ``rescue.yaml`` declares, read read-only). What the generator plants, by seeded draws: sessions of one
to six turns, a model switch midway (``gpt-4o-mini`` then ``gpt-4.1-mini``), about one call in ten sent to
``api.us-east.example-llm.com`` (a region the sample's compliance section does not allow) and the rest to
``eu.example-llm.com``, rate limits and timeouts, fake e-mail addresses and phone numbers in a few prompts,
old and current attribute names, and a few calls whose parent span is missing.

Deterministic: the same reviews give the same bytes (the gzip header carries no file name and no time).

Run from the repository root::

    python scripts/build_traces_sample.py
"""

from __future__ import annotations

import argparse
import gzip
import sqlite3
import tempfile
from pathlib import Path

import yaml

from rescue.traces import generate_otlp, read_traces_with_report

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "sample_data" / "drug-answers"
OUT = PROJECT / "sources" / "traces.jsonl.gz"
N_CALLS = 3_000
SEED = 15  # issue 15


def review_texts(project: Path) -> list[str]:
    """The review texts of the project's ``reviews`` source, in id order, read read-only."""
    spec = yaml.safe_load((project / "rescue.yaml").read_text(encoding="utf-8"))
    source = next(s for s in spec["sources"] if s["name"] == "reviews")
    uri = (project / source["location"]).resolve().as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        query = f'SELECT "{source["text_column"]}" FROM "{source["table"]}" ORDER BY "{source["id_column"]}"'
        return [text for (text,) in db.execute(query)]


def build(project: Path, out: Path, n_calls: int = N_CALLS, seed: int = SEED) -> Path:
    """Write the gzipped OTLP JSON traces to ``out``; return ``out``."""
    with tempfile.TemporaryDirectory(prefix="rescue-traces-") as tmp:
        plain = generate_otlp(review_texts(project), n_calls, seed, Path(tmp) / "traces.jsonl")
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as stream:
            stream.write(plain.read_bytes())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, help=f"where to write (default {OUT.relative_to(ROOT)})"
    )
    parser.add_argument("--calls", type=int, default=N_CALLS, help="LLM calls to write")
    args = parser.parse_args()
    path = build(PROJECT, args.out, args.calls)
    frame, report = read_traces_with_report(path)
    assert len(frame) == args.calls and not report.lines_skipped, report.summary()
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)\n{report.summary()}")


if __name__ == "__main__":
    main()
