"""Loading ``rescue.yaml`` and the project's other YAML files: strict YAML, validation, one SpecError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import MISSING, SpecError, SpecIssue
from .checks import check_spec
from .issues import issues_from_validation
from .models import SPEC_FILENAME, Spec


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

# A spec is small: these bounds are far above any real one, and far below what exhausts a machine.
MAX_DEPTH = 40  # nested mappings and lists
MAX_VALUES = 100_000  # values once every alias is expanded (a 530-byte alias bomb expands to billions)


def _check_bounds(text: str) -> str | None:
    """What is wrong with the document's size, read from the parser's events before anything is built: its
    nesting depth and how many values it holds once its aliases are expanded (None when within bounds)."""
    open_sizes = [0]  # values so far in each open collection (the outermost is the document)
    anchors: list[str | None] = []  # the anchor of each open collection
    sizes: dict[str, int] = {}  # values an anchor stands for, counted once it is closed
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.ScalarEvent):
            open_sizes[-1] += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            open_sizes[-1] += sizes.get(event.anchor, 1)
        elif isinstance(event, yaml.CollectionStartEvent):
            open_sizes.append(1)
            anchors.append(event.anchor)
            if len(anchors) > MAX_DEPTH:
                return f"nesting at most {MAX_DEPTH} levels deep (line {event.start_mark.line + 1} is deeper)"
        elif isinstance(event, yaml.CollectionEndEvent):
            size = open_sizes.pop()
            anchor = anchors.pop()
            if anchor:
                sizes[anchor] = size
            open_sizes[-1] += size
        if sum(open_sizes) > MAX_VALUES:
            return f"at most {MAX_VALUES:,} values once its aliases (*name) are expanded"
    return None


def read_yaml(file: Path) -> Any:
    """Parse a YAML file; syntax errors and duplicate keys become a SpecError with line/column."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(file, [SpecIssue("", MISSING, f"a file at {file}")]) from None
    except UnicodeDecodeError as exc:
        raise SpecError(file, [SpecIssue("", MISSING, f"UTF-8 text ({exc.reason})")]) from None
    try:
        if problem := _check_bounds(text):
            raise SpecError(file, [SpecIssue("", MISSING, f"a YAML document of {problem}")])
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        raise SpecError(file, [SpecIssue(where, MISSING, f"valid YAML ({exc.problem})")]) from None
    except yaml.YAMLError as exc:
        raise SpecError(file, [SpecIssue("", MISSING, f"valid YAML ({exc})")]) from None
    except RecursionError:  # the bounds keep documents shallower than this: a last line of defence
        raise SpecError(
            file, [SpecIssue("", MISSING, f"a YAML document at most {MAX_DEPTH} levels deep")]
        ) from None


def find_spec_file(project: str | Path) -> Path:
    """The rescue.yaml of a project folder (or the file itself when given a file)."""
    p = Path(project).expanduser()
    return p / SPEC_FILENAME if p.is_dir() else p


def load_spec(project: str | Path) -> Spec:
    """Load and validate a project's rescue.yaml. Raises SpecError listing every problem."""
    file = find_spec_file(project)
    data = read_yaml(file)
    if not isinstance(data, dict):
        raise SpecError(
            file,
            [
                SpecIssue(
                    "",
                    data if data is not None else MISSING,
                    "a mapping with at least project, use_case and poc",
                )
            ],
        )
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(file, issues_from_validation(exc, data, Spec)) from None
    spec._root = file.parent.resolve()
    spec._file = file.resolve()
    if issues := check_spec(spec):
        raise SpecError(file, issues)
    return spec


def load_records(file: Path, model: type[BaseModel], field: str) -> list[Any]:
    """The records of a project's YAML list file (empty when it does not exist yet), validated."""
    if not file.exists():
        return []
    data = read_yaml(file) or {}
    try:
        return list(getattr(model.model_validate(data), field))
    except ValidationError as exc:
        raise SpecError(file, issues_from_validation(exc, data, model)) from None
