"""A hard deadline around connector calls, so that a stuck driver cannot hang a request or a job."""
import logging
import time

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


class TimedSteps:
    """Drive a connector's generator one step at a time, each step under what is left of one deadline.

    Only the generator's own steps count against ``seconds``: the caller's work between steps
    (writing a chunk) does not. Each step runs through ``call_with_deadline``, so a stuck
    driver ends in TIMEOUT and an unexpected error in CONNECTOR_FAILED, as for a whole read.
    """

    def __init__(self, generator, seconds: float, *, what: str):
        self.generator, self.left, self.what, self.total = generator, seconds, what, seconds

    def send(self, message):
        def step():
            try:
                return self.generator.send(message)
            except StopIteration:
                return None  # the generator has finished

        if self.left <= 0:
            raise ConnectorError("TIMEOUT", f"The {self.what} did not finish within {self.total:g} seconds.")
        started = time.monotonic()
        try:
            return call_with_deadline(step, self.left, what=self.what)
        finally:
            self.left -= time.monotonic() - started

    def close(self):
        """Close the generator (and its connection); a close that hangs is left to its thread."""
        try:
            call_with_deadline(self.generator.close, GRACE_SECONDS, what=self.what)
        except (ConnectorError, ValueError):  # ValueError: a timed-out step is still running
            pass
