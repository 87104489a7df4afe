"""Warm worker processes that run BPMN scripts and expressions under operating-system limits.

The in-process sandbox (:mod:`engine.sandbox`) counts Python steps and CPU time between them, but a
single C-level call (``max([b] * 2000, key=sorted)``, ``sorted`` on long near-equal strings) runs
unchecked, and memory is not bounded at all. Here the same sandbox runs in a separate process with
``RLIMIT_AS`` (memory) and ``RLIMIT_CPU`` (the kernel stops it), and the parent waits only so long
on the wall clock before it kills the worker and starts a fresh one. The operation then fails with
a :class:`~engine.errors.SandboxError` and, since nothing was written yet, changes nothing.

Engine functions offered to BPMN (``working_hours(8)``) stay in the parent, where the calendar is:
the worker calls back by name. What the worker sends is unpickled with an allowlist of plain data
types, so even a worker that was somehow subverted cannot make the parent build arbitrary objects.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import math
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from .errors import MotcuaError, SandboxError
from .refusals import explain

log = logging.getLogger("motcua.sandbox")

Mode = Literal["eval", "exec"]

#: Exceptions a script may raise that are passed on with their own type (SpiffWorkflow reports them).
PLAIN_EXCEPTIONS: dict[str, type[Exception]] = {
    e.__name__: e
    for e in (
        ArithmeticError,
        AssertionError,
        AttributeError,
        IndexError,
        KeyError,
        LookupError,
        NameError,
        OverflowError,
        TypeError,
        UnboundLocalError,
        ValueError,
        ZeroDivisionError,
    )
}

#: (module, name) pairs a worker's answer may reference: plain data and nothing callable beyond it.
_SAFE_GLOBALS = frozenset(
    {
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "complex"),
        ("builtins", "range"),
        ("builtins", "slice"),
        ("builtins", "bytearray"),
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
        ("uuid", "UUID"),
        ("zoneinfo", "ZoneInfo._unpickle"),
        ("zoneinfo._zoneinfo", "ZoneInfo._unpickle"),
    }
)


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _SAFE_GLOBALS:
            raise SandboxError(f"Kết quả kịch bản chứa kiểu dữ liệu không được phép ({module}.{name})")
        return super().find_class(module, name)


def load_data(raw: bytes) -> Any:
    """Unpickle an answer from a worker, accepting plain data only."""
    return _DataUnpickler(io.BytesIO(raw)).load()


def dump(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass(frozen=True)
class Limits:
    """Per-evaluation limits; the step/CPU budget of the in-process sandbox still applies inside."""

    max_steps: int = 100_000
    cpu_seconds: float = 1.0
    max_depth: int = 50

    @property
    def wall_seconds(self) -> float:
        # Enough for the budget plus a loaded machine; the kernel's RLIMIT_CPU usually stops it first.
        return self.cpu_seconds + 2.0


class _Worker:
    """One child process and the socket to it."""

    def __init__(self, memory_bytes: int) -> None:
        parent, child = socket.socketpair()
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-s", "-m", "engine.sandbox_worker", str(child.fileno()), str(memory_bytes)],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                cwd=root,
                env=env,
                start_new_session=True,  # a Ctrl-C at the terminal is for the server, not its workers
            )
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        self.uses = 0

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        self.conn.close()

    def stop(self) -> None:
        self.conn.close()  # the worker exits on EOF
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()


class SandboxPool:
    """A small pool of warm sandbox workers shared by all threads of one server process."""

    def __init__(self, size: int = 2, *, memory_mb: int = 256, max_uses: int = 10_000) -> None:
        self.size = size
        self.memory_bytes = memory_mb * 1024 * 1024
        self.max_uses = max_uses  # recycle now and then: fragmentation, leaks in C extensions
        self._idle: list[_Worker] = []
        self._count = 0
        self._lock = threading.Condition()
        self._closed = False
        self._pid = os.getpid()

    # ----------------------------------------------------------------------------- workers
    def warm(self, count: int | None = None) -> None:
        """Start workers ahead of the first evaluation (server start, benchmarks)."""
        wanted = self.size if count is None else min(count, self.size)
        with self._lock:
            missing = max(0, wanted - self._count)
            self._count += missing
        started = [self._new_worker() for _ in range(missing)]
        with self._lock:
            self._idle.extend(w for w in started if w is not None)
            self._lock.notify_all()

    def _new_worker(self) -> _Worker | None:
        try:
            return _Worker(self.memory_bytes)
        except OSError:
            log.exception("could not start a sandbox worker")
            with self._lock:
                self._count -= 1
                self._lock.notify_all()
            return None

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._pid != os.getpid():  # forked (gunicorn): the parent's workers are not ours
                self._idle, self._count, self._pid = [], 0, os.getpid()
            while not self._idle and self._count >= self.size:
                self._lock.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        worker = self._new_worker()
        if worker is None:
            raise SandboxError("Không khởi động được tiến trình chạy kịch bản")
        return worker

    def _release(self, worker: _Worker) -> None:
        worker.uses += 1
        if worker.uses >= self.max_uses or self._closed:
            worker.stop()
            self._discard()
            return
        with self._lock:
            self._idle.append(worker)
            self._lock.notify()

    def _discard(self) -> None:
        with self._lock:
            self._count -= 1
            self._lock.notify()

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker that overran and start its successor off the caller's thread."""
        worker.kill()
        self._discard()
        if not self._closed:
            threading.Thread(target=self.warm, args=(1,), name="sandbox-respawn", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()
            self._discard()

    # ----------------------------------------------------------------------------- evaluation
    def run(
        self,
        mode: Mode,
        source: str,
        context: Mapping[str, Any],
        external: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]],
        limits: Limits,
    ) -> Any:
        """The value of an expression, or the task data a script leaves; raises what the script raised."""
        try:
            request = dump((mode, source, dict(context), dict(external), sorted(functions), limits))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise SandboxError(
                "Dữ liệu hồ sơ có giá trị không chuyển được cho kịch bản", details={"detail": str(exc)}
            ) from exc
        worker = self._acquire()
        try:
            reply = self._exchange(worker, request, functions, limits)
        except BaseException:
            self._replace(worker)
            raise
        self._release(worker)
        return _answer(reply)

    def _exchange(
        self,
        worker: _Worker,
        request: bytes,
        functions: Mapping[str, Callable[..., Any]],
        limits: Limits,
    ) -> tuple[Any, ...]:
        deadline = time.monotonic() + limits.wall_seconds
        try:
            worker.conn.send_bytes(request)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not worker.conn.poll(remaining):
                    raise _timeout(limits)
                reply = load_data(worker.conn.recv_bytes())
                if not isinstance(reply, tuple) or not reply:
                    raise SandboxError("Tiến trình chạy kịch bản trả lời không hợp lệ")
                if reply[0] != "call":
                    return reply
                worker.conn.send_bytes(dump(_call_function(functions, reply)))
        except (EOFError, OSError) as exc:
            raise _died(worker) from exc


def _call_function(functions: Mapping[str, Callable[..., Any]], reply: tuple[Any, ...]) -> tuple[Any, ...]:
    """Run an engine function the worker asked for; its errors go back to the script."""
    _, name, args, kwargs = reply
    function = functions.get(name) if isinstance(name, str) else None
    if function is None or not isinstance(args, tuple) or not isinstance(kwargs, dict):
        return ("raise", "SandboxError", f"Không có hàm '{name}'")
    try:
        return ("value", function(*args, **kwargs))
    except MotcuaError as exc:
        return ("raise", "SandboxError", exc.message)
    except Exception as exc:
        return ("raise", type(exc).__name__, str(exc))


def _timeout(limits: Limits) -> SandboxError:
    seconds = f"{limits.wall_seconds:g}".replace(".", ",")
    return SandboxError(
        f"Kịch bản hoặc biểu thức chạy quá {seconds} giây và đã bị dừng",
        details={"limit": "wall_clock", "seconds": limits.wall_seconds},
    )


def _died(worker: _Worker) -> SandboxError:
    try:
        code = worker.process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        code = None
    import signal

    if code == -signal.SIGXCPU:
        return SandboxError(
            "Kịch bản hoặc biểu thức vượt quá giới hạn thời gian CPU và đã bị dừng", details={"limit": "cpu"}
        )
    return SandboxError(
        "Tiến trình chạy kịch bản bị dừng do vượt giới hạn tài nguyên (bộ nhớ hoặc CPU)",
        details={"limit": "resources", "exit_code": code},
    )


def _answer(reply: tuple[Any, ...]) -> Any:
    if reply[0] == "ok" and len(reply) == 2:
        return reply[1]
    if reply[0] == "error" and len(reply) == 4:
        _, kind, message, details = reply
        raise exception_for(str(kind), str(message), details if isinstance(details, dict) else {})
    raise SandboxError("Tiến trình chạy kịch bản trả lời không hợp lệ")


def exception_for(kind: str, message: str, details: dict[str, Any] | None = None) -> Exception:
    """Rebuild an exception sent across the pipe: a plain Python one keeps its type, anything else
    becomes a SandboxError naming it."""
    if kind == "SandboxError":
        return SandboxError(message, details=details)
    plain = PLAIN_EXCEPTIONS.get(kind)
    if plain is not None:
        return plain(message)
    reason = explain(f"{kind}: {message}")
    return SandboxError(f"Kịch bản gặp lỗi: {reason.message}", details={"detail": reason.detail})


# --------------------------------------------------------------------------- the shared pool

_shared: SandboxPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> SandboxPool:
    """The process-wide pool (created on first use, closed at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            size = int(os.environ.get("MOTCUA_SANDBOX_WORKERS", "2"))
            memory = int(os.environ.get("MOTCUA_SANDBOX_MEMORY_MB", "256"))
            _shared = SandboxPool(max(1, size), memory_mb=max(64, memory))
            atexit.register(_shared.close)
        return _shared


def cpu_soft_limit(used_seconds: float, budget_seconds: float) -> int:
    """RLIMIT_CPU counts the whole life of a warm worker: allow this much more than it has used."""
    return int(used_seconds) + math.ceil(budget_seconds) + 1
