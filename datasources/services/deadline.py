"""A hard deadline around connector calls, so that a stuck driver cannot hang a request or a job."""
import logging
import queue
import threading
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


class Prefetched:
    """Iterate a connector's generator in a thread of its own, one item ahead of the caller.

    The reader's next chunk is read from the source while the caller writes the last one. The
    caller waits at most ``seconds`` in all for items (the time the reader makes it wait, not
    the time it spends itself); then TIMEOUT. An unexpected error becomes CONNECTOR_FAILED, as
    in ``call_with_deadline``. ``close()`` stops the reader; it closes the generator (and its
    connection) in its own thread, as soon as a stuck driver lets it.
    """

    def __init__(self, generator, seconds: float, *, what: str):
        self.generator, self.left, self.what, self.total = generator, seconds, what, seconds
        self.items, self.stopped = queue.Queue(maxsize=1), threading.Event()
        self.thread = None

    def start(self):
        """Start reading now, before the caller iterates (which starts it otherwise)."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._read, daemon=True, name="connector-prefetch")
            self.thread.start()

    def __iter__(self):
        self.start()
        while True:
            started = time.monotonic()
            try:
                kind, value = self.items.get(timeout=max(self.left, 0) + GRACE_SECONDS)
            except queue.Empty:
                raise ConnectorError(
                    "TIMEOUT", f"The {self.what} did not finish within {self.total:g} seconds.") from None
            finally:
                self.left -= time.monotonic() - started
            if kind == "error":
                raise value
            if kind == "done":
                return
            yield value

    def close(self):
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(GRACE_SECONDS)

    def _read(self):
        try:
            for item in self.generator:
                if not self._put(("item", item)):
                    return
            self._put(("done", None))
        except ConnectorError as error:
            self._put(("error", error))
        except Exception as error:  # noqa: BLE001 - reported by class name only, as call_with_deadline does
            logger.warning("Connector %s failed unexpectedly: %s", self.what, type(error).__name__)
            self._put(("error", ConnectorError(
                "CONNECTOR_FAILED", f"The {self.what} failed unexpectedly ({type(error).__name__}).")))
        finally:
            self.generator.close()
            connections.close_all()

    def _put(self, item) -> bool:
        """Hand ``item`` over once the caller has taken the previous one; False once it has stopped."""
        while not self.stopped.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False
