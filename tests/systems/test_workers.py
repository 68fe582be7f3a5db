"""The PoC in its own worker processes: a hang killed at the timeout, a crash one failed item, another
virtualenv's interpreter, the setup's errors where they are, and no process left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from rescue.errors import CallFailed, RescueError, SpecError
from rescue.ledger import Ledger
from rescue.spec import load_spec
from rescue.spec.secrets import remember_secret
from rescue.systems import Adapter, RunPolicy, make_poc_adapter, run
from rescue.systems.function import poc_code
from rescue.systems.workers import WorkerPool


def _project(folder: Path, poc_source: str, **poc: Any) -> Path:
    """A project whose PoC is the module ``poc.py`` (or a notebook, when ``poc_source`` is a list of cells)."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(poc_source, list):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(c)) for c in poc_source]
        nbformat.write(nb, str(folder / "poc.ipynb"))
        spec_poc = {"kind": "notebook", "path": "poc.ipynb", "function": "classify"}
    else:
        (folder / "poc.py").write_text(textwrap.dedent(poc_source), encoding="utf-8")
        spec_poc = {"kind": "python", "path": "poc.py", "function": "classify"}
    spec = {"project": "workers", "use_case": "test", "poc": {**spec_poc, **poc}}
    (folder / "rescue.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder


def _items(*texts: str) -> list[dict[str, Any]]:
    return [{"item_id": f"i{i}", "text": t} for i, t in enumerate(texts)]


def _gone(pid: int, within_s: float = 10.0) -> bool:
    """Whether process ``pid`` has ended (or is a zombie nobody reaped yet) within ``within_s``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


HANGS = """
import os, subprocess, time
from pathlib import Path

def classify(text):
    if text == "hang":
        child = subprocess.Popen(["sleep", "600"])   # the PoC's own child: killed with it
        Path("pids").write_text(f"{os.getpid()} {child.pid}")
        time.sleep(600)
    return {"label": text.upper()}
"""


def test_a_hung_call_is_killed_at_the_timeout_and_the_rest_are_answered(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", HANGS, timeout_s=1.5, concurrency=2)
    adapter = make_poc_adapter(load_spec(project))
    items = _items("a", "hang", "b", "c", "d")
    started = time.perf_counter()
    with Ledger(tmp_path / "out") as ledger:
        calls = run(adapter, items, ledger, "production", RunPolicy(retries=2), progress=False)
    elapsed = time.perf_counter() - started
    hung = calls[1]
    assert (hung.error_kind, hung.attempts) == ("timeout", 1)  # killed once, not retried within the run
    assert "no answer within 1.5 s" in hung.error and hung.latency_ms >= 1500
    assert [c.output for c in calls if c.ok] == [
        {"label": "A"},
        {"label": "B"},
        {"label": "C"},
        {"label": "D"},
    ]
    assert elapsed < 60  # not the hang's 600 s
    worker, child = (int(p) for p in (project / "pids").read_text().split())
    assert _gone(worker) and _gone(child)  # its process group went with it
    adapter.close()  # type: ignore[misc]


CRASHES = """
import ctypes, os, sys

def classify(text):
    if text == "segfault":
        print("about to read address 0 with sk-live-abcdef123456")
        ctypes.string_at(0)
    if text == "exit":
        sys.exit(3)
    if text == "hard-exit":
        os._exit(0)
    return {"label": text}
"""


def test_a_poc_that_segfaults_or_exits_on_an_item_fails_that_item_and_the_rest_are_scored(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    remember_secret("sk-live-abcdef123456", "${POC_KEY}")
    project = _project(tmp_path / "p", CRASHES, concurrency=2)
    adapter = make_poc_adapter(load_spec(project))
    texts = ["a", "segfault", "b", "exit", "c", "hard-exit", "d", "e"]
    with Ledger(tmp_path / "out") as ledger:
        calls = run(adapter, _items(*texts), ledger, "production", progress=False)
        recorded = ledger.done("production", "poc", adapter.config)
    by_text = dict(zip(texts, calls, strict=True))
    assert [by_text[t].output for t in "abcde"] == [{"label": t} for t in "abcde"]
    segfault = by_text["segfault"]
    assert segfault.error_kind == "crash" and segfault.attempts == 1
    assert "the PoC's process died on this item: exit code -11 (SIGSEGV)" in segfault.error
    assert "last output: about to read address 0 with ${POC_KEY}" in segfault.error  # redacted
    assert "Fatal Python error: Segmentation fault" in segfault.error  # the PoC's traceback, in the log
    assert "exit code 3" in by_text["exit"].error and by_text["exit"].error_kind == "crash"
    assert "exit code 0" in by_text["hard-exit"].error
    assert recorded["i1"].error_kind == "crash"  # in the ledger like any other failure
    assert "about to read" not in capfd.readouterr().out  # the PoC's prints never reach rescue's terminal
    adapter.close()  # type: ignore[misc]


def test_a_poc_in_its_own_virtualenv_runs_with_its_interpreter(tmp_path: Path) -> None:
    venv = tmp_path / "p" / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    source = """
    import importlib.util, sys

    def classify(text):
        return {"prefix": sys.prefix, "rescue": importlib.util.find_spec("rescue") is not None,
                "pydantic": importlib.util.find_spec("pydantic") is not None}
    """
    project = _project(tmp_path / "p", source, python=".venv/bin/python")
    own = make_poc_adapter(load_spec(project))
    answer = own.call({"item_id": "1", "text": "x"})
    # the PoC's virtualenv: none of rescue's packages (nor rescue) are there
    assert answer.output == {"prefix": str(venv), "rescue": False, "pydantic": False}
    default = load_spec(project)
    default = default.model_copy(update={"poc": default.poc.model_copy(update={"python": None})})
    assert make_poc_adapter(default).config != own.config  # another interpreter may answer otherwise
    own.close()  # type: ignore[misc]


def test_poc_python_must_be_an_interpreter(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", "def classify(text):\n    return text\n", python="missing/bin/python")
    with pytest.raises(
        SpecError, match=r"poc\.python: got 'missing/bin/python'; expected an executable Python"
    ):
        make_poc_adapter(load_spec(project))
    (project / "not-python").write_text("#!/bin/sh\nexit 7\n")
    (project / "not-python").chmod(0o755)
    project = _project(project, "def classify(text):\n    return text\n", python="not-python")
    with pytest.raises(RescueError, match=r"ended before it was ready: exit code 7"):
        make_poc_adapter(load_spec(project))


def test_a_setup_that_fails_says_which_cell_and_line(tmp_path: Path) -> None:
    cells = ["import json", "LABELS = ['a']\nwith open('missing.json') as f:\n    LABELS = json.load(f)",
             "def classify(text):\n    return LABELS[0]"]  # fmt: skip
    project = _project(tmp_path / "p", cells)
    with pytest.raises(RescueError) as info:
        make_poc_adapter(load_spec(project))
    assert str(info.value) == (
        "the PoC failed to load (poc.ipynb, cell 2, line 2): FileNotFoundError: "
        "[Errno 2] No such file or directory: 'missing.json'"
    )
    project = _project(tmp_path / "q", "def predict(text):\n    return text\n")
    with pytest.raises(RescueError, match=r"poc.py defines no function classify\(\)"):
        make_poc_adapter(load_spec(project))
    project = _project(tmp_path / "r", "import sys\nsys.exit('no GPU here')\n")
    with pytest.raises(RescueError, match=r"failed to load \(poc.py, line 2\): SystemExit: no GPU here"):
        make_poc_adapter(load_spec(project))


def test_a_name_the_notebook_rule_skipped_is_explained(tmp_path: Path) -> None:
    cells = ["def classify(text):\n    return [text, warm]", "warm = classify('warm up')"]
    adapter = make_poc_adapter(load_spec(_project(tmp_path / "p", cells)))
    with pytest.raises(CallFailed) as info:
        adapter.call({"item_id": "1", "text": "x"})
    assert info.value.kind == "error"
    assert str(info.value).startswith("NameError: name 'warm' is not defined — `warm`: cell 2, line 1")
    adapter.close()  # type: ignore[misc]


SHAPES = """
import asyncio, dataclasses, os

@dataclasses.dataclass
class Triage:
    team: str
    score: float
    audit_key: object
    setting: object

async def classify(question, lang):
    await asyncio.sleep(0)
    if question == "odd":
        return {"tags": {"x"}}        # a set: its text, as the ledger would keep it
    if question == "loop":
        d = {}
        d["self"] = d
        return d
    return Triage(f"{lang}:{question}", 0.5, os.environ.get("RESCUE_AUDIT_KEY"), os.environ.get("POC_SETTING"))
"""


def test_inputs_async_shapes_and_environment_cross_the_process_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESCUE_AUDIT_KEY", "audit-key-never-for-the-poc")
    monkeypatch.setenv("POC_SETTING", "its own")
    project = _project(tmp_path / "p", SHAPES, inputs={"question": "text", "lang": "language"})
    adapter = make_poc_adapter(load_spec(project))
    answer = adapter.call({"item_id": "1", "text": "hi", "language": "en", "other": object()})
    assert answer.output == {"team": "en:hi", "score": 0.5, "audit_key": None, "setting": "its own"}
    assert answer.latency_ms is not None and answer.latency_ms > 0
    assert adapter.call({"item_id": "2", "text": "odd", "language": "en"}).output == {"tags": "{'x'}"}
    with pytest.raises(CallFailed) as info:
        adapter.call({"item_id": "3", "text": "loop", "language": "en"})
    assert info.value.kind == "bad_response" and "cannot be written as JSON" in str(info.value)
    with pytest.raises(CallFailed) as info:
        adapter.call({"item_id": "4", "text": "no language"})
    assert info.value.kind == "bad_request" and "no field 'language'" in str(info.value)
    adapter.close()  # type: ignore[misc]


ONCE = """
import os
import shutil
fd = os.open("lock", os.O_CREAT | os.O_EXCL)   # a PoC that cannot run twice at once (a lock, a port)

def classify(text):
    return text
"""


def test_a_poc_that_runs_only_once_is_served_by_one_worker(tmp_path: Path) -> None:
    code = poc_code(_project(tmp_path / "p", ONCE) / "poc.py", "classify", notebook=False)
    with WorkerPool(code, size=4, timeout_s=10) as pool:
        with Ledger(tmp_path / "out") as ledger:
            adapter = Adapter("poc", "cfg", pool.call, 10, 4)
            calls = run(adapter, _items(*"abcdefgh"), ledger, "production", progress=False)
        assert [c.output for c in calls] == list("abcdefgh")
        assert pool.workers == 1 and pool.size == 1


def test_workers_stop_when_closed_when_dropped_and_when_rescue_dies(tmp_path: Path) -> None:
    source = "import os\n\ndef classify(text):\n    return os.getpid()\n"
    code = poc_code(_project(tmp_path / "p", source) / "poc.py", "classify", notebook=False)
    pool = WorkerPool(code, size=2, timeout_s=10)
    pid = pool.call({"item_id": "1", "text": "x"}).output
    pool.close()
    assert _gone(pid)
    with pytest.raises(CallFailed, match="pool is closed"):
        pool.call({"item_id": "1", "text": "x"})
    pid = WorkerPool(code, size=2, timeout_s=10).call({"item_id": "1", "text": "x"}).output
    assert _gone(pid)  # a pool nobody holds stops its workers

    # rescue killed (SIGKILL, no atexit) while one worker hangs on a call and another waits: both end, and the
    # folder of their logs goes with them
    script = textwrap.dedent(f"""
        import threading
        from pathlib import Path
        from rescue.systems.function import poc_code
        from rescue.systems.workers import WorkerPool
        code = poc_code(Path({str(tmp_path / "p" / "poc.py")!r}), "classify", notebook=False)
        pool = WorkerPool(code, size=2, timeout_s=600)
        print(pool._folder, flush=True)
        hang = threading.Thread(target=pool.call, args=({{"item_id": "2", "text": "hang"}},))
        hang.start()
        print(pool.call({{"item_id": "1", "text": "x"}}).output, flush=True)
        hang.join()
    """)
    (tmp_path / "p" / "poc.py").write_text(source.replace("    return", "    if text == 'hang':\n"
                                                          "        import time; time.sleep(600)\n    return"))  # fmt: skip
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    folder = Path(parent.stdout.readline().strip())  # type: ignore[union-attr]
    idle = int(parent.stdout.readline())  # type: ignore[union-attr]
    assert folder.is_dir()
    time.sleep(0.3)  # the hanging call is under way
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    assert _gone(idle)
    assert all(_gone(int(p)) for p in subprocess.run(["pgrep", "-f", str(folder)], capture_output=True,
                                                     text=True).stdout.split())  # fmt: skip
    deadline = time.monotonic() + 10
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists()


def test_isolation_thread_calls_the_poc_in_rescues_own_process(tmp_path: Path) -> None:
    """The same answers, the same config (the cache serves both), no process of its own."""
    project = _project(tmp_path / "p", "import os\n\ndef classify(text):\n    return {'pid': os.getpid()}\n")
    process = make_poc_adapter(load_spec(project))
    _project(
        project, "import os\n\ndef classify(text):\n    return {'pid': os.getpid()}\n", isolation="thread"
    )
    thread = make_poc_adapter(load_spec(project))
    assert thread.call({"item_id": "1", "text": "x"}).output == {"pid": os.getpid()}
    assert process.call({"item_id": "1", "text": "x"}).output != {"pid": os.getpid()}
    assert thread.config == process.config and thread.close is None
    process.close()  # type: ignore[misc]
    _project(project, "def classify(text):\n    return text\n", isolation="thread", python=sys.executable)
    with pytest.raises(SpecError, match=r"poc\.python: .* expected no interpreter when isolation is thread"):
        make_poc_adapter(load_spec(project))


def _python(version: str) -> str | None:
    """An interpreter of ``version`` on this machine that runs (a pyenv shim of another version does not)."""
    found = shutil.which(f"python{version}")
    if found is None:
        return None
    done = subprocess.run([found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    return found if done.stdout.strip() == version else None


@pytest.mark.skipif(_python("3.9") is None, reason="no Python 3.9 on this machine")
def test_the_worker_runs_in_the_oldest_python_it_supports(tmp_path: Path) -> None:
    source = """
    import asyncio, dataclasses, sys

    @dataclasses.dataclass
    class Answer:
        label: str
        python: str

    async def classify(text):
        await asyncio.sleep(0)
        return Answer(text.upper(), "%d.%d" % sys.version_info[:2])
    """
    project = _project(tmp_path / "p", source, python=_python("3.9"))
    adapter = make_poc_adapter(load_spec(project))
    assert adapter.call({"item_id": "1", "text": "x"}).output == {"label": "X", "python": "3.9"}
    adapter.close()  # type: ignore[misc]
