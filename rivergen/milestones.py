"""Milestones of a connection test: code deep in a connection (a resolved name, an open tunnel)
notes that a step has passed, and the connection service, which records the steps, times them.

Connector work runs in helper threads (``run_within``), which ``adopt`` their caller's record.
"""
import threading
import time
from contextlib import contextmanager

_local = threading.local()


def milestone(step: str) -> None:
    """Note that ``step`` has just passed, when a test is recording."""
    marks = getattr(_local, "marks", None)
    if marks is not None:
        marks.append((step, time.monotonic()))


def current():
    return getattr(_local, "marks", None)


def adopt(marks) -> None:
    """Record into ``marks`` (a caller thread's record) from this thread."""
    _local.marks = marks


@contextmanager
def recording():
    """Collect the milestones of the work run inside (and in the helper threads that adopt them)."""
    before = current()
    _local.marks = marks = []
    try:
        yield marks
    finally:
        _local.marks = before
