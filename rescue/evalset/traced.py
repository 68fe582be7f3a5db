"""Day 3 for a free-text PoC with production traces: a random, stratified sample of production's own calls.

The rubric sample (:mod:`rescue.evalset.rubric`) holds the questions the labels file asks; the traces hold what
production was actually asked. This draws ``eval.sample_size`` of the traced calls — stratified by the
``eval.strata`` fields the calls have (``source``, ``model``…), narrowed by ``eval.where`` — each with its weight
and inclusion probability, and keeps it in ``out`` (``traces_sample.csv`` with a manifest holding its SHA-256),
so Day 4 replays and judges the same calls on every run. Never "the interesting traces": the draw is seeded and
random within each stratum.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputFileError, SourceUnavailable
from ..hashing import file_sha256
from ..spec import Spec
from . import sample as sampling

TRACES_SAMPLE = "traces_sample.csv"
TRACES_MANIFEST = "traces_sample.json"


def traces_population(spec: Spec) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Every call of the spec's traces sources with an input (``source`` set), and the sources left out (could
    not be read, with the reason)."""
    frames, left_out = [], []
    for source in spec.sources:
        if source.kind != "traces":
            continue
        try:
            frame = sampling.trace_items(spec, source)
        except SourceUnavailable as exc:
            left_out.append({"source": source.name, "kind": exc.kind, "reason": exc.reason})
            continue
        frames.append(frame.assign(source=source.name))
    if not frames:
        return pd.DataFrame(columns=["item_id", "text", "source"]), left_out
    frame = pd.concat(frames, ignore_index=True)
    return frame[frame["text"].str.strip() != ""].reset_index(drop=True), left_out


def prepare_traces_sample(
    spec: Spec, out: str | Path, resample: bool = False
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The traced calls sampled for Day 4 (drawn once, then reused while the file is the one drawn), and how they
    were drawn; None when the spec has no traces source or none of its calls has an input."""
    if not any(s.kind == "traces" for s in spec.sources):
        return None
    path = Path(out) / TRACES_SAMPLE
    manifest_path = path.with_name(TRACES_MANIFEST)
    if path.exists() and manifest_path.exists() and not resample:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if file_sha256(path) != manifest["sha256"]:
            raise InputFileError(path, f"changed since it was drawn ({manifest['rows']} calls): restore it, or delete "
                                 f"it and {TRACES_MANIFEST} to draw a new sample")  # fmt: skip
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in ("weight", "inclusion_probability"):
            frame[column] = frame[column].astype(float)
        return frame, {**manifest["info"], "reused": True}
    everything, left_out = traces_population(spec)
    if everything.empty:
        return None
    population, generalises_to = sampling.narrowed(everything, dict(spec.eval.where))
    if population.empty:
        return None
    strata = [c for c in spec.eval.strata if c in population.columns]
    frame = sampling.draw(population, spec.eval.sample_size, strata)
    frame["key"] = frame["source"] + ":" + frame["item_id"].astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    frame.to_csv(partial, index=False)
    partial.replace(path)
    by_stratum = frame.groupby("stratum").agg(
        items=("key", "size"),
        weight=("weight", "first"),
        inclusion_probability=("inclusion_probability", "first"),
    )
    drawn = [
        {"stratum": str(k), "items": int(r["items"]), "weight": round(float(r["weight"]), 4),
         "inclusion_probability": round(float(r["inclusion_probability"]), 6)}
        for k, r in by_stratum.iterrows()
    ]  # fmt: skip
    info = {
        "size": len(frame),
        "population": len(population),
        "stratified_by": strata,
        "strata": drawn,
        "generalises_to": generalises_to or "every call the traces hold (no eval.where filter)",
        "sessions": int(frame["session_id"].nunique()) if "session_id" in frame.columns else None,
        "sources_left_out": left_out,
        "file": path.name,
    }
    manifest = {"rows": len(frame), "sha256": file_sha256(path), "info": info}
    partial = manifest_path.with_name(manifest_path.name + ".tmp")
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    partial.replace(manifest_path)
    return frame, {**info, "reused": False}


def traced_items(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The sampled calls as items Day 4 calls and scores: ``item_id`` the key, the input as ``text``, and every
    trace field (session, model, recorded output, latency, tokens), the weight and the stratum."""
    items = []
    for row in frame.to_dict("records"):
        item = {k: v for k, v in row.items() if v not in (None, "") and not (isinstance(v, float) and v != v)}
        item.update({"item_id": row["key"], "source_id": row["item_id"], "text": row["text"]})
        items.append(item)
    return items


def summary_line(info: dict[str, Any] | None) -> str | None:
    """Day 3's sentence on the traces sample (None without one)."""
    if not info:
        return None
    chances = sorted({s["inclusion_probability"] for s in info["strata"]})
    chance = f"{chances[0]:.3g}" if len(chances) == 1 else f"{chances[0]:.3g} to {chances[-1]:.3g}"
    sessions = f" in {info['sessions']:,} sessions" if info.get("sessions") else ""
    by = f", stratified by {', '.join(info['stratified_by'])}" if info["stratified_by"] else ""
    return (f"- **Production traces**: {info['size']:,} calls{sessions} drawn at random from "
            f"{info['generalises_to']}{by} ({info['population']:,} calls; each had a chance of {chance} to be drawn); "
            f"Day 4 replays them through the PoC and judges production's recorded answers beside the replay's "
            f"(`{info['file']}`).")  # fmt: skip
