"""Language mix of text columns: real sentences told apart, short texts not guessed, sampling seeded."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rescue.data import language
from rescue.data.display import findings_markdown, language_text
from rescue.data.language import language_mix
from rescue.data.picture import profile_source
from rescue.spec import load_spec

ENGLISH = [
    "The tablets helped with the pain after two weeks, but I still wake up tired every morning.",
    "My doctor changed the dose because the side effects were getting worse at night.",
    "I have been taking this medication for three months and my blood pressure is finally normal.",
    "The pharmacy sent the wrong package again and nobody answered the phone when I called.",
    "After the first week the headaches stopped and I could sleep through the night.",
    "Please tell me whether I can take this together with my allergy medicine.",
    "It works well for my anxiety, although I gained some weight in the first month.",
    "The delivery arrived late and the box was damaged, so I had to order a refill.",
    "I would recommend this treatment to anyone who struggles with migraines like I did.",
    "Since I started the new pills my stomach has been upset almost every day.",
]
GERMAN = [
    "Die Tabletten haben mir nach zwei Wochen gegen die Schmerzen geholfen, aber ich bin morgens immer noch müde.",
    "Mein Arzt hat die Dosis geändert, weil die Nebenwirkungen in der Nacht schlimmer wurden.",
    "Ich nehme dieses Medikament seit drei Monaten und mein Blutdruck ist endlich wieder normal.",
    "Die Apotheke hat schon wieder das falsche Paket geschickt und niemand ist ans Telefon gegangen.",
    "Nach der ersten Woche hörten die Kopfschmerzen auf und ich konnte endlich durchschlafen.",
    "Bitte sagen Sie mir, ob ich das zusammen mit meinem Allergiemittel einnehmen darf.",
]
FRENCH = [
    "Les comprimés m'ont aidé contre la douleur après deux semaines, mais je suis toujours fatigué le matin.",
    "Mon médecin a changé la dose parce que les effets secondaires devenaient plus forts la nuit.",
    "Je prends ce médicament depuis trois mois et ma tension est enfin redevenue normale.",
    "La pharmacie a encore envoyé le mauvais colis et personne n'a répondu au téléphone.",
]
SHORT = ["ok", "danke", "merci beaucoup", "N/A", "10mg", "SKU-00012"]  # fewer than 20 letters each
EMPTY = [None, "", "   "]


def test_english_german_and_french_are_told_apart() -> None:
    mix = language_mix(ENGLISH + GERMAN + FRENCH + SHORT + EMPTY)
    assert mix["texts"] == len(ENGLISH + GERMAN + FRENCH + SHORT)  # the empty ones are not texts
    assert mix["sampled"] == mix["texts"]  # fewer than LANGUAGE_SAMPLE: every text
    assert mix["too_short"] == len(SHORT)
    assert mix["uncertain"] == 0 and mix["other_languages"] == 0
    assert mix["told"] == len(ENGLISH + GERMAN + FRENCH)
    assert [(lang["code"], lang["texts"]) for lang in mix["languages"]] == [("en", 10), ("de", 6), ("fr", 4)]
    assert [lang["name"] for lang in mix["languages"]] == ["English", "German", "French"]
    assert [lang["share"] for lang in mix["languages"]] == [0.5, 0.3, 0.2]
    assert mix["method"].startswith("py3langid ")
    assert language_text(mix) == "English 50%, German 30%, French 20% of 20 texts told (6 too short to tell)"


def test_a_large_column_is_judged_on_a_seeded_sample(monkeypatch) -> None:
    monkeypatch.setattr(language, "LANGUAGE_SAMPLE", 30)
    texts = (ENGLISH * 10) + (GERMAN * 5) + [None] * 50  # 130 texts, 100 English
    first, again = language_mix(texts), language_mix(texts)
    assert first == again  # the same sample every time
    assert first["texts"] == 130 and first["sampled"] == 30
    assert first["too_short"] == 0 and first["told"] == 30
    assert {lang["code"] for lang in first["languages"]} == {"en", "de"}
    assert language_mix(texts, seed=1)["sampled"] == 30
    assert "a seeded sample of 30 of 130" in language_text(first)


def test_nothing_to_tell() -> None:
    mix = language_mix([None, "", "ok"])
    assert mix["sampled"] == 1 and mix["too_short"] == 1 and mix["told"] == 0 and mix["languages"] == []
    assert language_text(language_mix([])) == "no text to tell"


@pytest.fixture
def multilingual_project(write_spec, sample_spec_data, tmp_path):
    rows = ENGLISH + GERMAN + FRENCH + SHORT
    frame = pd.DataFrame(
        {
            "id": range(len(rows)),
            "message": rows,
            "status": ["open", "closed"] * (len(rows) // 2),  # codes, not prose: no language judged
            "email": [f"person{i}@example.org" for i in range(len(rows))],  # long, but no words
        }
    )
    data = dict(sample_spec_data)
    data["sources"] = [
        {
            "name": "inbox",
            "kind": "parquet",
            "location": "inbox.parquet",
            "id_column": "id",
            "text_column": "message",
        }
    ]
    project = write_spec(data)
    frame.to_parquet(project / "inbox.parquet")
    return load_spec(project)


def test_the_picture_reports_the_language_mix_of_prose_columns(multilingual_project) -> None:
    from datetime import date

    entry, _ = profile_source(
        multilingual_project, multilingual_project.sources[0], date(2026, 11, 1), probes=3
    )
    assert entry["status"] == "ok", entry["error"]
    mix = entry["profile"]["message"]["language_mix"]
    assert [(lang["code"], lang["texts"]) for lang in mix["languages"]] == [("en", 10), ("de", 6), ("fr", 4)]
    assert "language_mix" not in entry["profile"]["status"]
    assert "language_mix" not in entry["profile"]["email"]
    json.dumps(entry)  # plain data for the artifact
    picture = {
        "summary": {
            "reachable": 1,
            "sources": 1,
            "rows_total": entry["rows"],
            "unowned_sources": [],
            "owners_without_evidence": [],
            "outside_allowed_regions": [],
            "personal_data_found_in": [],
            "personal_data_undeclared_in": [],
        },
        "residency": {"providers": [], "allowed_regions": []},
        "sources": [entry],
        "cross_source": {"text_overlap": []},
        "demo_vs_production": None,
        "as_of": "2026-11-01",
    }
    assert (
        "- inbox.message language: English 50%, German 30%, French 20% of 20 texts told"
        in findings_markdown(picture)
    )


def test_a_language_failure_is_a_note_not_an_unavailable_source(multilingual_project, monkeypatch) -> None:
    from datetime import date

    def broken(texts):
        raise RuntimeError("model file damaged")

    monkeypatch.setattr(language, "language_mix", broken)
    entry, _ = profile_source(
        multilingual_project, multilingual_project.sources[0], date(2026, 11, 1), probes=3
    )
    assert entry["status"] == "ok" and "language_mix" not in entry["profile"]["message"]
    assert "language mix not told: RuntimeError: model file damaged" in entry["notes"]
    assert entry["pii"]["email"]["email"] == 26  # the rest of the text work still counts
