"""The child side of :mod:`engine.sandbox_pool`: ``python -m engine.sandbox_worker FD MEMORY_BYTES``.

It limits itself first (address space, no core files), then serves one evaluation at a time from
the socket ``FD`` until the parent closes it. Before each evaluation ``RLIMIT_CPU`` is set a little
above what the worker has used so far, so the kernel stops a runaway C call even when the parent
is too busy to notice. Only this module and :mod:`engine.sandbox` are imported: no database, no
settings, nothing worth reaching from inside.
"""

from __future__ import annotations

import pickle
import resource
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from .errors import SandboxError
from .sandbox import SandboxedEnvironment
from .sandbox_pool import Limits, cpu_soft_limit, dump, exception_for


def _address_space_now() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_self(memory_bytes: int) -> None:
    limit = _address_space_now() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _limit_cpu(budget_seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = cpu_soft_limit(usage.ru_utime + usage.ru_stime, budget_seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _proxy(conn: Connection, name: str) -> Callable[..., Any]:
    """An engine function seen from the worker: the call runs in the parent."""

    def call(*args: Any, **kwargs: Any) -> Any:
        conn.send_bytes(dump(("call", name, args, kwargs)))
        answer = pickle.loads(conn.recv_bytes())  # the parent is trusted
        if answer[0] == "value":
            return answer[1]
        raise exception_for(answer[1], answer[2])

    call.__name__ = name
    return call


def _evaluate(conn: Connection, request: tuple[Any, ...]) -> tuple[Any, ...]:
    mode, source, context, external, names, limits = request
    assert isinstance(limits, Limits)
    env = SandboxedEnvironment(
        {name: _proxy(conn, name) for name in names},
        max_steps=limits.max_steps,
        cpu_seconds=limits.cpu_seconds,
        max_depth=limits.max_depth,
        pool=None,
    )
    _limit_cpu(limits.cpu_seconds)
    try:
        if mode == "eval":
            return ("ok", env.evaluate(source, context, external))
        env.execute(source, context, external)
        return ("ok", context)
    except SandboxError as exc:
        return ("error", "SandboxError", exc.message, exc.details)
    except MemoryError:
        return ("error", "SandboxError", "Kịch bản dùng quá nhiều bộ nhớ", {"limit": "memory"})
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc), {})


def serve(conn: Connection) -> None:
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return
        reply = _evaluate(conn, pickle.loads(raw))
        try:
            data = dump(reply)
        except MemoryError:
            data = dump(("error", "SandboxError", "Kết quả kịch bản quá lớn", {"limit": "memory"}))
        except Exception as exc:  # e.g. a generator left in the task data
            message = "Kết quả kịch bản chứa giá trị không lưu được (chỉ dùng số, chuỗi, danh sách, từ điển)"
            data = dump(("error", "SandboxError", message, {"detail": f"{type(exc).__name__}: {exc}"}))
        conn.send_bytes(data)


def main(argv: list[str]) -> None:
    conn = Connection(int(argv[1]))
    _limit_self(int(argv[2]))
    serve(conn)


if __name__ == "__main__":
    main(sys.argv)
