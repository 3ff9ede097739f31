"""A server that accepts and never answers, answers garbage, or hangs up: the test or discovery ends at
its deadline, and every thread and socket behind it is gone by the deadline plus RELEASE_SECONDS
(connection_timeout bounds every connect; query_timeout only discovery's catalogue queries once the
server has answered). Threads and descriptors are checked separately, from both ends of each socket:
this process's descriptors (named when left open) and the connections the listener accepted."""
import threading

import pytest

from datasources.connectors import ConnectorError, connector_for
from datasources.services.connections import connection_test_run
from datasources.services.deadline import GRACE_SECONDS, call_with_deadline
from tests.support import settled_within
from tests.support.listeners import (  # noqa: F401  (fixtures)
    CLOSING,
    HALF,
    Listener,
    new_descriptors,
    new_threads,
    open_descriptors,
    silent_listener,
)
from tests.support.servers import free_port, make_source

pytestmark = pytest.mark.loopback  # the listeners and closed ports are on loopback

TYPES = ["postgresql", "mysql", "mariadb", "sqlserver", "oracle", "redshift", "mongodb", "redis", "elasticsearch",
         "cassandra", "http_api"]
RUNS = 4
# The promise: every socket is closed by the deadline plus 2 s (a leak would last query_timeout, 120 s).
RELEASE_SECONDS = 2


def silent_source(type_name, port, timeout=1):
    return make_source(type_name, host="127.0.0.1", port=port, database_name="0" if type_name == "redis" else "db",
                       credentials={"username": "u", "password": "p"}, connection_timeout=timeout, query_timeout=120)


class Baseline:
    """Threads and descriptors once one run has loaded the driver (its first use opens files)."""

    def __init__(self, type_name):
        connection_test_run(silent_source(type_name, free_port()))
        self.threads = set(threading.enumerate())
        self.descriptors = open_descriptors()

    def assert_released(self, listener=None):
        """Nothing this process started or opened since the baseline is left, and the listener's peers
        all hung up; each checked on its own, and what is left is named."""
        threads = settled_within(RELEASE_SECONDS, lambda: new_threads(self.threads))
        assert not threads, f"threads still running: {threads}"
        descriptors = settled_within(RELEASE_SECONDS, lambda: new_descriptors(self.descriptors, listener))
        assert not descriptors, "descriptors still open:\n" + "\n".join(descriptors)
        if listener is not None:
            unclosed = settled_within(RELEASE_SECONDS, listener.still_open)
            assert not unclosed, f"{unclosed} of the {len(listener.accepted)} accepted connections never closed by the client"


@pytest.mark.parametrize("type_name", TYPES)
def test_a_silent_servers_tests_release_threads_and_sockets(type_name, silent_listener):
    baseline = Baseline(type_name)
    for _ in range(RUNS):
        result = connection_test_run(silent_source(type_name, silent_listener.port))
        assert result.error_code == "TIMEOUT", (result.error_code, result.message)
    baseline.assert_released(silent_listener)


@pytest.mark.parametrize("type_name", TYPES)
@pytest.mark.parametrize("mode", [HALF, CLOSING])
def test_a_misbehaving_servers_tests_release_threads_and_sockets(type_name, mode):
    """A server that answers a line of garbage and falls silent, or one that hangs up at once."""
    listener = Listener(mode)
    baseline = Baseline(type_name)
    try:
        result = connection_test_run(silent_source(type_name, listener.port))
        # Each driver's own failure, classified: never the catch-all for an exception nobody expected.
        assert result.status == "failed" and result.error_code != "CONNECTOR_FAILED", result
        baseline.assert_released(listener)
    finally:
        listener.close()


@pytest.mark.parametrize("type_name", TYPES)
def test_a_refusing_servers_tests_release_threads_and_sockets(type_name):
    baseline = Baseline(type_name)
    result = connection_test_run(silent_source(type_name, free_port()))
    assert result.error_code == "HOST_UNREACHABLE", (result.error_code, result.message)
    baseline.assert_released()


@pytest.mark.parametrize("type_name", TYPES)
def test_a_silent_servers_discovery_ends_at_the_connection_deadline(type_name, silent_listener):
    baseline = Baseline(type_name)
    source = silent_source(type_name, silent_listener.port)
    connector = connector_for(type_name)()
    with pytest.raises(ConnectorError) as caught:
        call_with_deadline(lambda: connector.discover(source), source.connection_timeout + GRACE_SECONDS,
                           what="schema discovery")
    assert caught.value.code in ("TIMEOUT", "UNSUPPORTED", "DATABASE_NOT_FOUND", "HOST_UNREACHABLE")
    baseline.assert_released(silent_listener)


def concurrent_tests(type_name, port, count, timeout):
    results = []
    threads = [threading.Thread(target=lambda: results.append(connection_test_run(silent_source(type_name, port, timeout))))
               for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("type_name", ["postgresql", "mysql"])
def test_ten_concurrent_tests_of_a_silent_server_close_every_accepted_socket(type_name, silent_listener):
    """The operator's report: 10 at once, connection_timeout 2; 5 of 10 sockets stayed open 5 s later."""
    baseline = Baseline(type_name)
    results = concurrent_tests(type_name, silent_listener.port, 10, timeout=2)
    assert [r.error_code for r in results] == ["TIMEOUT"] * 10
    assert len(silent_listener.accepted) == 10
    baseline.assert_released(silent_listener)


@pytest.mark.parametrize("type_name", ["postgresql", "mysql", "mongodb"])
def test_rounds_of_tests_leave_the_descriptor_count_flat(type_name, silent_listener):
    """Five rounds of four concurrent tests: after each, the process holds what it held before the first
    (bench/sockets.py runs 50 per type and prints the counts)."""
    baseline = Baseline(type_name)
    counts = []
    for _ in range(5):
        concurrent_tests(type_name, silent_listener.port, 4, timeout=1)
        left = settled_within(RELEASE_SECONDS, lambda: new_descriptors(baseline.descriptors, silent_listener))
        counts.append(len(open_descriptors()) - len(silent_listener.descriptors()))
        assert not left, f"after round {len(counts)} still open:\n" + "\n".join(left)
    assert counts == [len(baseline.descriptors)] * 5
    assert settled_within(RELEASE_SECONDS, silent_listener.still_open) == 0
