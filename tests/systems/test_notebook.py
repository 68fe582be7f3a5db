"""The PoC's notebook run as it is: the setup/demo rule on the shapes contractors write, and what a call returns."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest

from rescue.errors import CallFailed, RescueError
from rescue.systems.function import call_with, load_function
from rescue.systems.notebook import explain, notebook_setup, python_of
from rescue.systems.parse import normalise


def _notebook(tmp_path: Path, *cells: str | tuple[str, list[str]], name: str = "poc.ipynb") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# The PoC"))
    for cell in cells:
        source, tags = (cell, []) if isinstance(cell, str) else cell
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags}))
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def _ran(path: Path, entry: str = "classify", **kw: Any) -> list[str]:
    """The statements that run, one per line."""
    return [line for _, code in notebook_setup(path, entry, **kw).cells for line in code.splitlines()]


CLIENT = """import json
from types import SimpleNamespace
class Client:
    def __init__(self):
        self.calls = 0
    def complete(self, text):
        self.calls += 1
        return {"label": "positive" if "good" in text else "negative"}
client = Client()            # key and base URL from the environment
MODEL = "gpt-4o-mini"
def classify(text: str) -> dict:
    return client.complete(text)
"""


def test_a_client_at_module_level_runs_and_the_function_uses_it(tmp_path: Path) -> None:
    fn = load_function(_notebook(tmp_path, CLIENT), "classify", notebook=True)
    assert fn("a good day") == {"label": "positive"}


def test_pip_and_shell_lines_go_string_literals_with_bang_and_percent_stay(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "%pip install openai\n!ls -la\nPROMPT = '''Reply as JSON!\n!important: 100% sure\n%d items'''\n"
                     "def classify(text):\n    return PROMPT")  # fmt: skip
    fn = load_function(path, "classify", notebook=True)
    assert fn("x") == "Reply as JSON!\n!important: 100% sure\n%d items"
    assert python_of("x = 1\n%time y = 2").startswith("x = 1")


def test_a_demo_loop_a_display_cell_and_calls_of_the_entry_function_are_skipped(tmp_path: Path) -> None:
    marker = tmp_path / "demo-ran"
    path = _notebook(
        tmp_path, CLIENT,
        "examples = ['good', 'bad']\nfor e in examples:\n    print(classify(e))",  # a demo loop
        "import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ndf.head()\nprint(df)\ndf",  # exploration
        f"result = classify('good')\nopen({str(marker)!r}, 'w').write(str(result))",  # calls the entry function
        "for e in examples:\n    display(e)",  # a loop that only displays
        "assert classify('good') == {'label': 'positive'}",
    )  # fmt: skip
    fn = load_function(path, "classify", notebook=True)
    ran = _ran(path)
    assert "examples = ['good', 'bad']" in ran and "df = pd.DataFrame({'a': [1]})" in ran
    assert not any("print" in line or "head" in line or "display" in line or "assert" in line for line in ran)
    assert not marker.exists()  # the statement after it read `result`, which a skipped statement sets
    setup = fn.__rescue_setup__
    assert fn("good") == {"label": "positive"}
    assert fn.__globals__["client"].calls == 1  # no demo call ran during the load
    reasons = {s.statement.split("(")[0]: s.why for s in setup.skipped}
    assert reasons["result = classify"] == "calls classify(), the entry function"
    assert reasons["open"].startswith("reads result")


def test_a_name_a_skipped_statement_changes_is_not_read_by_the_setup(tmp_path: Path) -> None:
    """A demo loop that fills a list, or a skipped item assignment, changes a name without binding it: what
    reads that name later would not see the notebook's value, so it is skipped too (and explained)."""
    path = _notebook(
        tmp_path, CLIENT,
        "results = []\nfor e in ['good', 'bad']:\n    results.append(classify(e))",  # the demo fills results
        "SUMMARY = {'n': len(results)}",
        "seen = {}\nseen['x'] = classify('good')",  # an item assignment in a skipped statement
        "LOOKUP = dict(seen)",
        "print(json.dumps(SUMMARY))\nCONFIG = json.loads('{}')",  # json is read, not changed: CONFIG runs
    )  # fmt: skip
    ran = _ran(path)
    assert "results = []" in ran and "seen = {}" in ran and "CONFIG = json.loads('{}')" in ran
    assert not any(line.startswith(("SUMMARY", "LOOKUP", "print")) for line in ran)
    fn = load_function(path, "classify", notebook=True)
    assert fn.__globals__["results"] == [] and "SUMMARY" not in fn.__globals__
    hint = explain(fn.__rescue_setup__, NameError("name 'SUMMARY' is not defined"))
    assert hint is not None and hint.startswith("`SUMMARY`: cell 4, line 1") and "reads results" in hint
    assert fn.__rescue_setup__.who_sets("results").cell == 3  # the demo loop, which changes it
    assert fn.__rescue_setup__.who_sets("seen").cell == 5


def test_a_loop_that_builds_the_index_runs(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "index = {}\nfor i, doc in enumerate(['a', 'b']):\n    index[doc] = i\n"
                     "def classify(text):\n    return index.get(text)")  # fmt: skip
    assert load_function(path, "classify", notebook=True)("b") == 1


def test_tags_and_spec_cells_override_the_rule(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path,
        ("setup_done = []\nsetup_done.append(1)\nprint('loaded')", ["rescue-setup"]),  # all of it runs
        ("raise RuntimeError('a cell rescue must skip')", ["rescue-skip"]),
        "WARM = classify('warm-up') if False else 'warm'",  # calls the entry function: skipped by the rule
        "def classify(text):\n    return (text, WARM)",
    )
    fn = load_function(path, "classify", notebook=True)  # the skipped cell's raise never ran
    assert fn.__globals__["setup_done"] == [1]  # the tagged cell ran whole, its print too
    with pytest.raises(NameError):
        fn("x")  # WARM: its cell calls the entry function, so the rule skipped it
    assert load_function(path, "classify", notebook=True, setup_cells=[4])("x") == ("x", "warm")
    # the spec's skip_cells: the cell that defines classify is never run, and the error says where it is
    with pytest.raises(RescueError, match=r"defines no function classify\(\): cell 5, line 1"):
        load_function(path, "classify", notebook=True, skip_cells=[5])


def test_a_name_the_rule_skipped_is_explained_with_its_cell(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "client = make_client() if False else classify('probe')",
                     "def classify(text):\n    return client.complete(text)")  # fmt: skip
    fn = load_function(path, "classify", notebook=True)
    with pytest.raises(NameError) as info:
        fn("x")
    hint = explain(fn.__rescue_setup__, info.value)
    assert hint is not None and hint.startswith("`client`: cell 2, line 1")
    assert (
        "calls classify(), the entry function" in hint
        and "rescue-setup" in hint
        and "poc.setup_cells" in hint
    )


def test_a_setup_that_fails_names_its_cell_and_line(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "import json", "x = 1\nDATA = json.load(open('missing.json'))")
    with pytest.raises(
        RescueError, match=r"the PoC failed to load \(poc.ipynb, cell 3, line 2\): FileNotFoundError"
    ):
        load_function(path, "classify", notebook=True)


def test_async_entry_functions_and_inputs_mapped_to_parameters(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "import asyncio\nasync def answer(question, context=''):\n"
                     "    await asyncio.sleep(0)\n    return {'answer': f'{question}|{context}'}")  # fmt: skip
    fn = load_function(path, "answer", notebook=True)
    item = {"item_id": "1", "text": "q?", "context": "docs"}
    assert call_with(fn, item, None) == {"answer": "q?|"}
    assert call_with(fn, item, {"question": "text", "context": "context"}) == {"answer": "q?|docs"}
    with pytest.raises(CallFailed, match="the item has no field 'title'"):
        call_with(fn, item, {"question": "title"})
    asyncio.run(asyncio.sleep(0))  # the loop asyncio.run made is closed: another runs fine


def test_an_if_main_block_is_skipped(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path, "def classify(t):\n    return t\nif __name__ == '__main__':\n    raise SystemExit(1)"
    )
    assert load_function(path, "classify", notebook=True)("x") == "x"


@dataclasses.dataclass
class Verdict:
    label: str
    confidence: float


def test_outputs_as_people_write_them_are_normalised_and_the_raw_form_kept() -> None:
    from openai.types.chat import ChatCompletion
    from pydantic import BaseModel

    class Triage(BaseModel):
        label: str

    assert normalise("positive") == ("positive", None, None, None)
    assert normalise('{"label": "x"}')[0] == {"label": "x"}
    assert normalise({"label": "x", "usage": {"prompt_tokens": 3, "completion_tokens": 2}})[2:] == (3, 2)
    assert normalise(["a", "b"])[0] == ["a", "b"]
    assert normalise(Triage(label="neg"))[0] == {"label": "neg"}
    assert normalise(Verdict("pos", 0.9))[0] == {"label": "pos", "confidence": 0.9}
    completion = ChatCompletion.model_validate({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": '{"label": "positive"}'}}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 5, "total_tokens": 45},
    })  # fmt: skip
    output, raw, tokens_in, tokens_out = normalise(completion)
    assert output == {"label": "positive"} and (tokens_in, tokens_out) == (40, 5)
    assert raw["model"] == "gpt-4o-mini" and json.dumps(raw)  # kept, JSON-able

    ai_message = SimpleNamespace(content="neutral", usage_metadata={"input_tokens": 7, "output_tokens": 1},
                                 response_metadata={})  # LangChain's shape  # fmt: skip
    assert normalise(ai_message)[::2] == ("neutral", 7)
    response = SimpleNamespace(response="Take it with food.", metadata=None,
                               source_nodes=[SimpleNamespace(node=SimpleNamespace(node_id="doc-3"))])  # fmt: skip
    assert normalise(response)[0] == {
        "answer": "Take it with food.",
        "documents": ["doc-3"],
    }  # LlamaIndex's shape
