"""CPU seconds spent by one green thread (or OS thread) inside a block, without what other green threads ran.

Under gevent every green thread shares one OS thread, so `time.thread_time()` around a block that waits on a
socket also counts the requests and the fan-out that ran meanwhile. `GreenCpu` stops its clock whenever its green
thread switches away (a greenlet switch hook, installed only while the block runs) and restarts it on the way back.
Under threads no switch happens and it is plain `thread_time()`.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import greenlet


class GreenCpu:
    """`with GreenCpu() as cpu: ...` then `cpu.seconds`: the CPU time of this green thread inside the block."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._me: Any = None
        self._mark = 0.0
        self._previous: Any = None

    def __enter__(self) -> GreenCpu:
        self._me = greenlet.getcurrent()
        self._previous = greenlet.settrace(self._trace)
        self._mark = time.thread_time()
        return self

    def _trace(self, event: str, args: Any) -> None:
        if self._me is not None and event in ("switch", "throw"):
            origin, target = args
            now = time.thread_time()
            if origin is self._me:
                self.seconds += now - self._mark
            if target is self._me:
                self._mark = now
        if self._previous is not None:
            self._previous(event, args)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.seconds += time.thread_time() - self._mark
        self._me = None  # done counting: a hook installed over this one since may still call it
        if greenlet.gettrace() == self._trace:  # restore only our own: never drop a later block's hook
            greenlet.settrace(self._previous)
