"""The week's kernels: each day's kernel starts, and loads its workbook's imports, while the days before it run.

A day's kernel is still a fresh process that runs only its own workbook (nothing is shared between days); only
its start moves earlier. ``rescue week`` asks :class:`Kernels` for the kernel of the day about to run and, before
running it, has the next :data:`AHEAD` days' kernels started (the command starts the first ones before it imports
the rest of the week). On two cores, the next kernels' interpreter start and imports (pandas, scipy, matplotlib,
ibis: 1-3 s a day) then overlap the current day's cells instead of following them.

The warm-up imports modules only: it binds no name in the notebook's namespace, runs silently (no execution
count, no history, no output in the notebook) and never fails the day. A module whose import fails is imported
again by the workbook's own cell, which then reports the error as it would have.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import functools
import math
import os
import queue
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync
from traitlets import CaselessStrEnum, DottedObjectName, Type, default

KERNEL = "python3"
# The workbook's kernel calls gc.freeze() as it exits, from an atexit handler registered before the notebook
# runs (so it runs after the notebook's own, such as stopping a model server rescue started): the interpreter
# then skips the collections it makes over every module it imported as it shuts down, about 1.3 s of each day.
# Nothing depends on them: the notebook and the artifacts are written before the kernel is asked to stop.
KERNEL_ARGUMENTS = ("--IPKernelApp.exec_lines=__import__('atexit').register(__import__('gc').freeze)",)
# what nbclient adds when it starts an IPython kernel itself: no history file is written by a batch run
HISTORY_ARGUMENT = "--HistoryManager.hist_file=:memory:"
# how long the hand-over waits for a warm-up to finish (nbclient would wait as long for the kernel's first reply)
WARM_UP_TIMEOUT_S = 60.0
# how many days ahead the week starts kernels: on two cores, a short day (Day 3) would otherwise leave the next
# day (Day 4, the heaviest imports) waiting for its warm-up
AHEAD = 2
# A kernel exits 0.05-0.15 s after its shutdown request (2 cores). One still running EXIT_S after it is hung in
# ipykernel 7's shutdown (a race between its control thread's last flush and its IOPub thread's close: one
# kernel in five to ten here) and would not exit on its own: it is terminated (SIGTERM to its process group),
# and killed when it has not exited TERM_WAIT_S later. Its notebook and artifacts were written before it was
# asked to stop.
EXIT_S = 1.0
TERM_WAIT_S = 0.5


class ReadyClient(AsyncKernelClient):
    """The client papermill's notebook client gets for a rescue kernel: ready as jupyter_client's is, without
    its last 0.2 s.

    jupyter_client's ``wait_for_ready`` sends ``kernel_info`` until a reply comes over shell and some message
    over IOPub (IOPub's subscription can lag: what the kernel publishes before it is lost), then reads IOPub
    until it has been silent for 0.2 s. This one waits for the kernel's ``idle`` for the request that was
    answered: then IOPub is subscribed and the kernel has published all it will for that request, so nothing is
    waited for after it (nbclient reads only the messages of the cells it sends). 0.2 s of every day's run.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Return once the kernel answers ``kernel_info`` over shell and IOPub; RuntimeError when it died or did
        not in ``timeout`` seconds."""
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            self.kernel_info()
            if await self._answered():
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _answered(self) -> bool:
        try:
            reply = await ensure_async(self.shell_channel.get_msg(timeout=1))
        except queue.Empty:
            return False
        if reply["msg_type"] != "kernel_info_reply":
            return False
        answered = reply["parent_header"].get("msg_id")
        while True:  # the kernel's idle for that request, each message within 0.2 s of the one before
            try:
                msg = await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
            except queue.Empty:
                return False  # IOPub was not subscribed yet when the kernel published: ask again
            idle = msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
            if idle and msg["parent_header"].get("msg_id") == answered:
                self._handle_kernel_info_reply(reply)
                return True


class LocalKernelManager(AsyncKernelManager):
    """The workbook's kernel talks over Unix sockets in a private temporary folder, not TCP: nothing listens
    on a port, nothing is sent in plain text over the network stack (and the kernel does not warn that it is).

    It remembers the clients it makes, so that whoever shuts the kernel down also closes the client that
    papermill's notebook client opened and leaves open when it was given the kernel rather than starting it.
    """

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)
    client_class = DottedObjectName("rescue.kernels.ReadyClient")
    client_factory = Type(klass=AsyncKernelClient, default_value=ReadyClient)

    @default("ip")
    def _private_socket_prefix(self) -> str:
        # a random name in this process's own folder: processes forked from one parent (the portfolio's workers)
        # share its memory layout, so id(self) and an inherited folder could name the same socket twice
        return str(_socket_dir() / f"kernel-{uuid.uuid4().hex[:16]}")

    def client(self, **kwargs: Any) -> Any:
        """A client of this kernel, remembered until :meth:`close_clients`."""
        made = super().client(**kwargs)
        self.__dict__.setdefault("_rescue_clients", []).append(made)
        return made

    def close_clients(self) -> None:
        """Stop the channels of every client this manager made."""
        for made in self.__dict__.pop("_rescue_clients", []):
            made.stop_channels()


def _socket_dir() -> Path:
    """This process's private folder for kernel sockets (a forked child gets its own, not its parent's)."""
    return _socket_dir_of(os.getpid())


@functools.cache
def _socket_dir_of(pid: int) -> Path:
    path = Path(tempfile.mkdtemp(prefix="rescue-kernel-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def workbook_imports(workbook: Path) -> list[str]:
    """The modules a workbook imports at the top level of its code cells, in order: ``import a.b`` gives
    ``a.b``; ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be a submodule or a name; importing a name
    as a module fails quietly in the warm-up). A cell that is not plain Python (a magic) is skipped."""
    names: list[str] = []
    for cell in nbformat.read(str(workbook), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [node.module, *(f"{node.module}.{a.name}" for a in node.names if a.name != "*")]
    return list(dict.fromkeys(names))


def warm_up_code(modules: Iterable[str]) -> str:
    """Code that imports ``modules`` and leaves no name behind in the namespace it runs in."""
    return (
        "def __rescue_warm_up(names):\n"
        "    import importlib\n"
        "    for name in names:\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except Exception:\n"
        "            pass\n"
        f"__rescue_warm_up({list(modules)!r})\n"
        "del __rescue_warm_up\n"
    )


class WarmKernel:
    """One day's kernel: started in ``cwd``, its workbook's imports sent to it as a silent request, which it
    runs as soon as it is up, before anything papermill sends."""

    def __init__(self, workbook: Path, cwd: Path) -> None:
        self.workbook = workbook
        self.retired_at: float | None = None  # when it was asked to shut down (retire)
        self.manager = LocalKernelManager(kernel_name=KERNEL)
        run_sync(self.manager.start_kernel)(
            extra_arguments=[*KERNEL_ARGUMENTS, HISTORY_ARGUMENT], cwd=str(cwd)
        )
        # a blocking client of its own (its own zmq context): the message waits in its queue until the kernel
        # binds its sockets, and the kernel runs requests in the order they came
        self._warm = BlockingKernelClient()
        self._warm.load_connection_info(self.manager.get_connection_info())
        self._warm.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        self._warming = self._warm.execute(
            warm_up_code(workbook_imports(workbook)), silent=True, store_history=False, allow_stdin=False
        )

    def ready(self, timeout_s: float = WARM_UP_TIMEOUT_S) -> LocalKernelManager | None:
        """The kernel's manager, once its warm-up has finished; None (and the kernel stopped) when it has died
        or did not answer in ``timeout_s``: the caller then starts a kernel as before."""
        answered = self._finish_warm_up(timeout_s)
        if answered and run_sync(self.manager.is_alive)():
            return self.manager
        self.close(now=True)
        return None

    def _finish_warm_up(self, timeout_s: float) -> bool:
        if self._warm is None:
            return True
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                try:
                    reply = self._warm.get_shell_msg(timeout=0.25)
                except queue.Empty:
                    if not run_sync(self.manager.is_alive)():
                        return False
                    continue
                if reply.get("parent_header", {}).get("msg_id") == self._warming:
                    return True
            return False
        finally:
            self._stop_warm_client()

    def _stop_warm_client(self) -> None:
        if self._warm is not None:
            self._warm.stop_channels()
            self._warm = None

    def retire(self) -> None:
        """Ask the kernel to shut down, without waiting for it: :meth:`close_retired` later cleans up."""
        self.manager.close_clients()
        self.retired_at = time.monotonic()
        with contextlib.suppress(Exception):  # already gone
            run_sync(self.manager.request_shutdown)()

    def hung(self) -> bool:
        """Whether the kernel was asked to shut down more than :data:`EXIT_S` ago and is still running."""
        late = self.retired_at is not None and time.monotonic() - self.retired_at > EXIT_S
        return late and run_sync(self.manager.is_alive)()

    def terminate(self) -> None:
        """SIGTERM to the kernel's process group, without waiting for it to exit."""
        with contextlib.suppress(Exception):  # already gone
            run_sync(self.manager.signal_kernel)(signal.SIGTERM)

    def close_retired(self) -> None:
        """Give a retired kernel until :data:`EXIT_S` after its shutdown request to exit; terminate one that has
        not (killed when it has not exited :data:`TERM_WAIT_S` later); clean up."""
        deadline = (self.retired_at or time.monotonic()) + EXIT_S
        while time.monotonic() < deadline and run_sync(self.manager.is_alive)():
            time.sleep(0.02)
        if run_sync(self.manager.is_alive)():
            self.terminate()
        # finish_shutdown: half of the wait for the exit, SIGTERM again, the other half, SIGKILL
        self.close(wait_s=2 * TERM_WAIT_S)

    def exited(self) -> bool:
        """Whether the kernel has exited (its resources are then cleaned up)."""
        if run_sync(self.manager.is_alive)():
            return False
        self.close(now=True)
        return True

    def close(self, now: bool = False, wait_s: float | None = None) -> None:
        """Stop the kernel and clean up: at once when ``now``, else after waiting up to ``wait_s`` for it to
        exit on its own (half of it, then terminated, then killed, as nbclient does; its default without one)."""
        self._stop_warm_client()
        self.manager.close_clients()
        try:
            if run_sync(self.manager.is_alive)():
                if now:
                    run_sync(self.manager.shutdown_kernel)(now=True)
                else:
                    run_sync(self.manager.finish_shutdown)(waittime=wait_s)
            elif self.manager.has_kernel:  # it exited: reaped, its pipes closed, as after a shutdown
                run_sync(self.manager.provisioner.wait)()
        finally:
            run_sync(self.manager.cleanup_resources)()


class Kernels:
    """The kernels of a run of days, started ahead: :meth:`take` gives the kernel for a workbook (the first one
    started ahead when it was for that workbook), :meth:`ahead` starts the next ones, :meth:`done` retires a used
    one. Leaving the ``with`` block stops every kernel still running, a day's failure included."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._ahead: list[WarmKernel] = []
        self._retiring: list[WarmKernel] = []

    def __enter__(self) -> Kernels:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def take(self, workbook: Path) -> WarmKernel:
        """The kernel for ``workbook``: the first one started ahead, or one started now (the ones started ahead
        are then for other workbooks, and are stopped)."""
        if self._ahead and self._ahead[0].workbook == workbook:
            return self._ahead.pop(0)
        self._stop_ahead(0)
        return WarmKernel(workbook, self.cwd)

    def ahead(self, *workbooks: Path) -> None:
        """Have the kernels of the next ``workbooks``, in order, started now, while the current one runs: the
        ones already started for them are kept; any other started ahead is stopped."""
        keep = 0
        while keep < min(len(workbooks), len(self._ahead)) and self._ahead[keep].workbook == workbooks[keep]:
            keep += 1
        self._stop_ahead(keep)
        self._ahead += [WarmKernel(workbook, self.cwd) for workbook in workbooks[keep:]]

    def _stop_ahead(self, keep: int) -> None:
        for kernel in self._ahead[keep:]:
            kernel.close(now=True)
        del self._ahead[keep:]

    def done(self, kernel: WarmKernel) -> None:
        """A used kernel: asked to shut down now and left to exit while the next day runs. None is waited for:
        the retired kernels that have exited are cleaned up, a hung one is terminated."""
        kernel.retire()
        running = []
        for old in self._retiring:
            if old.exited():
                continue
            if old.hung():
                old.terminate()
            running.append(old)
        self._retiring = [*running, kernel]

    def close(self) -> None:
        """Stop every kernel still running: the ones started ahead at once; a retired one when it has exited,
        or is terminated as hung (:data:`EXIT_S`)."""
        ahead, retiring = self._ahead, self._retiring
        self._ahead, self._retiring = [], []
        for kernel in ahead:
            with contextlib.suppress(Exception):  # a kernel that is already gone: nothing to stop
                kernel.close(now=True)
        for kernel in retiring:
            with contextlib.suppress(Exception):
                kernel.close_retired()
