"""A hard deadline around connector calls, so that a stuck driver cannot hang a request or a job."""
import logging
import threading

from django.db import connections

from datasources.connectors.base import ConnectorError

logger = logging.getLogger(__name__)

# Drivers are told the limit themselves; the watchdog fires a little later as the backstop,
# still inside the promised "limit plus two seconds".
GRACE_SECONDS = 1.5


def call_with_deadline(func, seconds: float, *, what: str):
    """Run ``func()`` in a helper thread; raise ConnectorError(TIMEOUT) after ``seconds`` + grace.

    A thread that overruns is abandoned (Python cannot kill it); it is a daemon so it never
    blocks shutdown. Exceptions other than ConnectorError are reported by class name only,
    since a driver's message may quote a connection string.
    """
    outcome = {}

    def target():
        try:
            outcome["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            outcome["error"] = exc
        finally:
            connections.close_all()  # this thread's own Django connections, if the connector used any

    thread = threading.Thread(target=target, name=f"rivergen-{what}", daemon=True)
    thread.start()
    thread.join(seconds + GRACE_SECONDS)
    if thread.is_alive():
        raise ConnectorError("TIMEOUT", f"The {what} did not finish within {seconds:g} seconds.")
    error = outcome.get("error")
    if error is None:
        return outcome.get("value")
    if isinstance(error, ConnectorError):
        raise error
    logger.warning("Connector %s failed unexpectedly: %s", what, type(error).__name__)
    raise ConnectorError("CONNECTOR_FAILED", f"The {what} failed unexpectedly ({type(error).__name__}).")
