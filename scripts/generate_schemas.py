"""Write ``rescue/schemas/<name>.schema.json`` for every artifact from its pydantic model (``rescue.models``).

    python scripts/generate_schemas.py           # (re)write the six schema files
    python scripts/generate_schemas.py --check   # write nothing; exit 1 if a file differs from its model

The schema files are generated: edit the models, never the files. ``tests/test_models.py`` fails when the
two drift apart. The output is deterministic (sorted keys, two-space indent, a final newline).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rescue.models import MODELS, schema_text

SCHEMAS = Path(__file__).resolve().parent.parent / "rescue" / "schemas"


def stale(schemas: Path = SCHEMAS) -> list[str]:
    """The artifacts whose schema file is missing or differs from what its model generates."""
    return [
        name
        for name in MODELS
        if not (path := schemas / f"{name}.schema.json").exists()
        or path.read_text(encoding="utf-8") != schema_text(name)
    ]


def write(schemas: Path = SCHEMAS) -> list[Path]:
    """Write every artifact's schema file; returns the files that changed."""
    changed = []
    for name in MODELS:
        path = schemas / f"{name}.schema.json"
        text = schema_text(name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a schema file is stale")
    args = parser.parse_args(argv)
    if args.check:
        names = stale()
        for name in names:
            print(f"rescue/schemas/{name}.schema.json is stale: run scripts/generate_schemas.py")
        return 1 if names else 0
    for path in write():
        print(f"wrote {path.relative_to(SCHEMAS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
