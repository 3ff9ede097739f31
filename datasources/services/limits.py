"""How many connection tests may run at once: per user and per web process.

A test may wait up to its connection_timeout on a server that never answers, holding a web
thread. Bounding the tests in flight keeps a few editors from tying up every worker thread;
past a bound the request is refused at once with ``TooBusy`` (429 with Retry-After).
"""
import threading
from collections import Counter
from contextlib import contextmanager

from django.conf import settings

from rivergen.errors import TooBusy

_lock = threading.Lock()
_per_user = Counter()
_in_process = 0


@contextmanager
def connection_test_slot(user_id):
    """Hold one of DATASOURCES_TESTS_PER_USER / _PER_PROCESS slots while the body runs."""
    global _in_process
    per_user = getattr(settings, "DATASOURCES_TESTS_PER_USER", 4)
    per_process = getattr(settings, "DATASOURCES_TESTS_PER_PROCESS", 16)
    with _lock:
        if _per_user[user_id] >= per_user:
            raise TooBusy(f"At most {per_user} connection tests per user may run at once; try again shortly.")
        if _in_process >= per_process:
            raise TooBusy("The server is running as many connection tests as it may; try again shortly.")
        _per_user[user_id] += 1
        _in_process += 1
    try:
        yield
    finally:
        with _lock:
            _in_process -= 1
            _per_user[user_id] -= 1
            if not _per_user[user_id]:
                del _per_user[user_id]
