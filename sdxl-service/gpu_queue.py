"""One GPU job at a time, first come first served, with a bounded line of waiting calls.

A call over the line's limit is refused at once (QueueFull -> RESOURCE_EXHAUSTED), so Easel
backs off or tries another endpoint instead of piling work on a busy GPU. A waiting call
that is cancelled leaves the line without ever touching the GPU.
"""
from __future__ import annotations

import collections
import contextlib
import threading
from typing import Deque, Iterator

from jobs import Cancelled, IsCancelled

_POLL_S = 0.05


class QueueFull(Exception):
    def __init__(self, waiting: int):
        super().__init__(f"{waiting} calls are already waiting for the GPU")
        self.waiting = waiting


class GpuQueue:
    def __init__(self, max_waiting: int):
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._line: Deque[object] = collections.deque()
        self._busy = False

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._line)

    @contextlib.contextmanager
    def turn(self, is_cancelled: IsCancelled) -> Iterator[None]:
        """Waits for this call's turn on the GPU and holds it for the `with` block.

        Raises QueueFull when the line is full, Cancelled when the call is cancelled while
        waiting.
        """
        ticket = object()
        with self._cond:
            if (self._busy or self._line) and len(self._line) >= self.max_waiting:
                raise QueueFull(len(self._line))
            self._line.append(ticket)
            try:
                while self._busy or self._line[0] is not ticket:
                    if is_cancelled():
                        raise Cancelled()
                    self._cond.wait(_POLL_S)
            except BaseException:
                self._line.remove(ticket)
                self._cond.notify_all()
                raise
            self._line.popleft()
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
