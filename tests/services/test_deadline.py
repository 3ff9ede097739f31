"""The hard deadline around connector calls."""
import threading

import pytest

from datasources.connectors.base import ConnectorError
from datasources.services.deadline import GRACE_SECONDS, call_with_deadline
from tests.support import finishes_within


def test_returns_the_value_of_a_call_that_finishes():
    assert call_with_deadline(lambda: 42, 1, what="probe") == 42


def test_connector_errors_pass_through_unchanged():
    def fail():
        raise ConnectorError("AUTH_FAILED", "Password authentication failed.")

    with pytest.raises(ConnectorError) as caught:
        call_with_deadline(fail, 1, what="probe")
    assert (caught.value.code, caught.value.message) == ("AUTH_FAILED", "Password authentication failed.")


def test_other_errors_become_connector_failed_without_their_message():
    def crash():
        raise ValueError("postgresql://user:hunter2@db/x")

    with pytest.raises(ConnectorError) as caught:
        call_with_deadline(crash, 1, what="probe")
    assert caught.value.code == "CONNECTOR_FAILED" and "hunter2" not in caught.value.message


def test_a_call_that_hangs_is_abandoned_after_the_limit_plus_grace():
    release = threading.Event()
    try:
        with finishes_within(1 + GRACE_SECONDS) as clock, pytest.raises(ConnectorError) as caught:
            call_with_deadline(lambda: release.wait(30), 1, what="connection test")
    finally:
        release.set()
    assert caught.value.code == "TIMEOUT" and "1 seconds" in caught.value.message
    assert clock.elapsed >= 1 + GRACE_SECONDS - 0.1  # not abandoned before the limit and its grace
