"""A hard deadline around connector calls, so that a stuck driver cannot hang a request or a job."""
import logging

from django.db import connections

from datasources.connectors.base import ConnectorError, run_within

logger = logging.getLogger(__name__)

# Drivers are told the limit themselves; the watchdog fires a little later as the backstop,
# still inside the promised "limit plus two seconds".
GRACE_SECONDS = 1.5


def call_with_deadline(func, seconds: float, *, what: str):
    """Run ``func()`` under ``run_within``'s deadline plus a grace; ConnectorError(TIMEOUT) after.

    Exceptions other than ConnectorError are reported by class name only, since a driver's
    message may quote a connection string.
    """

    def guarded():
        try:
            return func()
        finally:
            connections.close_all()  # this thread's own Django connections, if the connector used any

    try:
        return run_within(
            seconds + GRACE_SECONDS, guarded,
            timeout_message=f"The {what} did not finish within {seconds:g} seconds.",
        )
    except ConnectorError:
        raise
    except Exception as error:  # noqa: BLE001 - a crash becomes a failed test, never a 500
        logger.warning("Connector %s failed unexpectedly: %s", what, type(error).__name__)
        raise ConnectorError(
            "CONNECTOR_FAILED", f"The {what} failed unexpectedly ({type(error).__name__})."
        ) from None
