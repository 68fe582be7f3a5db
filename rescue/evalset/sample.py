"""Draw the eval sample from the production sources: stratified, deduplicated, weighted.

Exact duplicates are texts equal after trimming; near-duplicates are texts equal after normalising
case, HTML entities, punctuation and whitespace (the same review scraped twice, re-encoded, or with
``&#039;`` for an apostrophe). Every sampled item carries its stratum and its weight — the number of
production items it stands for — so scores can be weighted back to the production mix.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Collection

import pandas as pd

from ..data.connect import read_texts
from ..errors import RescueError, SourceUnavailable
from ..spec import Source, Spec
from ..stats import half_width, items_for_half_width

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """The form near-duplicates share: unescaped, lower-cased, only letters and digits, single spaces."""
    return _NON_ALNUM.sub(" ", html.unescape(html.unescape(text)).lower()).strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:20]


# what an item drawn from production traces carries besides its input: item field -> the trace frame's column
TRACE_FIELDS = {
    "trace_id": "trace_id", "session_id": "session_id", "model": "model", "operation": "operation",
    "provider": "provider", "recorded_output": "output_text", "recorded_latency_ms": "latency_ms",
    "recorded_tokens_in": "tokens_in", "recorded_tokens_out": "tokens_out", "recorded_error": "error_type",
}  # fmt: skip


def trace_items(spec: Spec, source: Source, ids: Collection[str] | None = None) -> pd.DataFrame:
    """The LLM calls of a ``traces`` source as items: ``item_id`` the span id, ``text`` the input (the user's
    message), and :data:`TRACE_FIELDS` (the session, the model, the output production recorded…), read-only;
    with ``ids``, those calls only. A call without a span id cannot be told apart and is left out."""
    from ..traces import read_traces

    frame = read_traces(spec.path(source.location or ""), source.format or "auto")
    items = pd.DataFrame(
        {"item_id": frame["span_id"].astype("string"), "text": frame["input_text"].astype("string")}
    )
    for field, column in TRACE_FIELDS.items():
        items[field] = frame[column].astype("string")
    items = items[items["item_id"].notna()].drop_duplicates("item_id")
    if ids is not None:
        items = items[items["item_id"].isin({str(i) for i in ids})]
    items["text"] = items["text"].fillna("")
    return items.reset_index(drop=True)


def source_texts(
    spec: Spec, source: Source, extra_columns: list[str] | None = None, ids: Collection[str] | None = None
) -> pd.DataFrame:
    """``item_id``, ``text`` and the ``extra_columns`` a source has, of every row (or of ``ids``): a table's rows,
    or a traces source's calls (:func:`trace_items`, with every trace field)."""
    if source.kind == "traces":
        return trace_items(spec, source, ids)
    return read_texts(spec, source, extra_columns, ids)


def samples_from(source: Source) -> bool:
    """Whether Day 3 can draw items from a source: a table with an id and a text column, or traces."""
    return source.kind == "traces" or bool(source.id_column and source.text_column)


def narrowed(frame: pd.DataFrame, where: dict[str, str | list[str]]) -> tuple[pd.DataFrame, str | None]:
    """The items ``eval.where`` keeps (each field equal to its value, or one of its values), and the population
    they stand for in words (None without a filter). A field no item has is an error naming it."""
    if not where:
        return frame, None
    keep = pd.Series(True, index=frame.index)
    said = []
    for field, wanted in where.items():
        if field not in frame.columns:
            raise RescueError(f"eval.where names {field!r}, which no sampled source has: expected one of "
                              f"{', '.join(c for c in frame.columns if c not in ('text',))}")  # fmt: skip
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        keep &= frame[field].astype("string").isin(values).fillna(False)
        said.append(f"{field} {'= ' + values[0] if len(values) == 1 else 'in ' + ', '.join(values)}")
    kept = frame[keep].reset_index(drop=True)
    return kept, f"production items where {' and '.join(said)} ({len(kept):,} of {len(frame):,})"


def population(
    spec: Spec, extra_columns: list[str] | None = None, left_out: list[dict[str, str]] | None = None
) -> pd.DataFrame:
    """Every production item with text, read read-only from the declared sources (not the demo file): the rows of
    each source with an id and a text column, and the calls of each traces source (their inputs).

    A source that cannot be read is left out of the population, and named in ``left_out`` (with the kind and
    the reason) so the artifact says which production the sample stands for; none readable is an error.
    """
    frames = []
    unreadable = []
    for source in spec.sources:
        if not samples_from(source):
            continue
        try:
            frame = source_texts(spec, source, extra_columns)
        except SourceUnavailable as exc:
            unreadable.append({"source": source.name, "kind": exc.kind, "reason": exc.reason})
            continue
        frames.append(frame.assign(source=source.name))
    if left_out is not None:
        left_out += unreadable
    if not frames:
        reasons = "; ".join(f"{u['source']}: {u['reason']}" for u in unreadable)
        raise RescueError(
            "no source declares both id_column and text_column: nothing to sample from"
            if not unreadable
            else f"no source with id_column and text_column could be read ({reasons})"
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame[frame["text"].str.strip() != ""].reset_index(drop=True)


def deduplicate(
    frame: pd.DataFrame, demo_texts: list[str] | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop exact and near-duplicate texts (keeping the first) and any text that is one of the demo examples."""
    exact = frame["text"].str.strip()
    exact_dupes = exact.duplicated()
    near = frame["text"].map(normalise)
    near_dupes = near.duplicated() & ~exact_dupes
    demo = {normalise(t) for t in demo_texts or []}
    is_demo = near.isin(demo)
    kept = frame[~(exact_dupes | near_dupes | is_demo)].copy()
    kept["item_hash"] = kept["text"].map(text_hash)
    return kept.reset_index(drop=True), {
        "exact_duplicates": int(exact_dupes.sum()),
        "near_duplicates": int(near_dupes.sum()),
        "demo_examples_found": int(is_demo.sum()),
    }


def allocate(sizes: dict[str, int], n: int, minimum: int = 10) -> dict[str, int]:
    """Proportional allocation with a floor per stratum (largest remainders), never above a stratum's size."""
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    alloc = {k: min(v, max(minimum, math.floor(n * v / total))) for k, v in sizes.items()}
    remainders = sorted(sizes, key=lambda k: -(n * sizes[k] / total - math.floor(n * sizes[k] / total)))
    i = 0
    while sum(alloc.values()) < n and i < 10 * len(sizes):
        k = remainders[i % len(remainders)]
        if alloc[k] < sizes[k]:
            alloc[k] += 1
        i += 1
    while sum(alloc.values()) > n:
        k = max(alloc, key=lambda s: alloc[s] - minimum)
        alloc[k] -= 1
    return alloc


def draw(frame: pd.DataFrame, n: int, strata: list[str], seed: int = 7, minimum: int = 10) -> pd.DataFrame:
    """A stratified random sample of about ``n`` items, with ``stratum``, ``weight`` (the production items each
    stands for, N_h / n_h) and ``inclusion_probability`` (n_h / N_h) columns."""
    keys = (
        frame[strata].astype("string").fillna("(none)").agg(" | ".join, axis=1)
        if strata
        else pd.Series(["all"] * len(frame))
    )
    frame = frame.assign(stratum=keys.values)
    sizes = frame["stratum"].value_counts().to_dict()
    alloc = allocate(sizes, n, minimum)
    parts = []
    for stratum, take in sorted(alloc.items()):
        group = frame[frame["stratum"] == stratum]
        picked = group.sample(n=take, random_state=seed) if take < len(group) else group
        # each item of the stratum had the same chance to be drawn: take / N_h; it stands for N_h / take items
        parts.append(picked.assign(weight=len(group) / max(take, 1), inclusion_probability=take / len(group)))
    return pd.concat(parts).sort_values(["stratum", "item_id"]).reset_index(drop=True)


def precision_table(sizes: list[int] | None = None, p: float = 0.5) -> pd.DataFrame:
    """The half-width of a 95% interval on a rate (worst case p = 0.5) that each sample size buys."""
    sizes = sizes or [50, 100, 200, 300, 400, 600, 1000, 2000]
    return pd.DataFrame(
        {
            "labeled items": sizes,
            "± points (95%)": [round(100 * half_width(n, p), 1) for n in sizes],
        }
    )


def size_for(width: float, p: float = 0.5) -> int:
    """Labeled items needed for a 95% interval of ± ``width`` on a rate."""
    return items_for_half_width(width, p)
