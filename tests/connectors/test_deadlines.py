"""A server that accepts and never answers: the test or discovery ends at its deadline, and so do
the thread and the socket behind it (connection_timeout bounds every connect; query_timeout only
discovery's catalogue queries once the server has answered)."""
import os
import threading
import time

import pytest

from datasources.services.connections import connection_test_run
from datasources.services.deadline import GRACE_SECONDS, call_with_deadline
from datasources.connectors import ConnectorError, connector_for
from tests.support.servers import make_source

TYPES = ["postgresql", "mysql", "mariadb", "sqlserver", "oracle", "redshift", "mongodb", "redis", "elasticsearch",
         "cassandra", "http_api"]
RUNS = 4
# Generous: the promise is deadline + 2 s; a leak would last query_timeout (120 s).
SETTLE_SECONDS = 12


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def settled(threads_before, fds_before) -> tuple[int, int]:
    """Threads and descriptors over the baseline, once they stop going down (or SETTLE_SECONDS pass)."""
    end = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < end:
        extra = (threading.active_count() - threads_before, fds() - fds_before)
        if extra[0] <= 0 and extra[1] <= 0:
            break
        time.sleep(0.2)
    return threading.active_count() - threads_before, fds() - fds_before


def silent_source(type_name, port):
    return make_source(type_name, host="127.0.0.1", port=port, database_name="0" if type_name == "redis" else "db",
                       credentials={"username": "u", "password": "p"}, connection_timeout=1, query_timeout=120)


def baseline(type_name, port):
    """Threads and descriptors after one run has loaded the driver (its first use opens files)."""
    connection_test_run(silent_source(type_name, port))
    settled(threading.active_count(), fds())
    return threading.active_count(), fds()


@pytest.mark.parametrize("type_name", TYPES)
def test_a_silent_servers_tests_release_threads_and_sockets(type_name, silent):
    threads_before, fds_before = baseline(type_name, silent.port)
    for _ in range(RUNS):
        result = connection_test_run(silent_source(type_name, silent.port))
        assert result.error_code == "TIMEOUT", (result.error_code, result.message)
    assert settled(threads_before, fds_before) <= (0, 0)


@pytest.mark.parametrize("type_name", TYPES)
def test_a_silent_servers_discovery_ends_at_the_connection_deadline(type_name, silent):
    threads_before, fds_before = baseline(type_name, silent.port)
    source = silent_source(type_name, silent.port)
    connector = connector_for(type_name)()
    with pytest.raises(ConnectorError) as caught:
        call_with_deadline(lambda: connector.discover(source), source.connection_timeout + GRACE_SECONDS,
                           what="schema discovery")
    assert caught.value.code in ("TIMEOUT", "UNSUPPORTED", "DATABASE_NOT_FOUND", "HOST_UNREACHABLE")
    assert settled(threads_before, fds_before) <= (0, 0)
