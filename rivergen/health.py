"""Liveness and readiness for load balancers, and outages answered as 503 instead of 500.

``/healthz`` says the process serves requests and does no I/O. ``/readyz`` checks that the
database and the job broker answer within READINESS_TIMEOUT and names the part that does not.
A database that cannot be reached while a request runs becomes ``503 SERVICE_UNAVAILABLE``
with ``Retry-After``; nothing is cached, so the next request after it is back succeeds.
"""
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

OUTAGE_MESSAGE = "The service is temporarily unavailable; try again shortly."


def is_outage(exc: BaseException) -> bool:
    """A database that cannot be reached or has no free connection (pool timeout), not a bug."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:
        return False
    return isinstance(exc, PoolTimeout)


def retry_after() -> str:
    return str(getattr(settings, "SERVICE_UNAVAILABLE_RETRY_AFTER", 5))


def outage_response(request):
    """503 with Retry-After: the API envelope under /api/, plain text elsewhere (the admin)."""
    from rivergen.api import error_body

    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(503, OUTAGE_MESSAGE), status=503)
    else:
        response = HttpResponse(OUTAGE_MESSAGE, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = retry_after()
    return response


class ServiceUnavailableMiddleware:
    """Outages outside DRF's views (the admin, Django's own views) become 503 too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_outage(exception):
            logger.warning("Service unavailable (%s) for %s", type(exception).__name__, request.path)
            return outage_response(request)
        return None


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks = {"database": _check(_database), "broker": _check(_broker)}
    failed = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "unavailable" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
        response = JsonResponse(body, status=503)
        response["Retry-After"] = retry_after()
        return response
    return JsonResponse(body)


def _check(probe) -> str:
    try:
        probe(settings.READINESS_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the class name is enough
        logger.warning("Readiness check %s failed: %s", probe.__name__.strip("_"), type(exc).__name__)
        return "unavailable"
    return "ok"


def _database(timeout: float):
    connection = connections["default"]
    pool = getattr(connection, "pool", None)
    if pool is not None:
        # Straight from the pool with our own wait, so a full or dead pool fails in `timeout`.
        pool.open()
        with pool.connection(timeout=timeout) as conn:
            conn.execute("SELECT 1")
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker(timeout: float):
    from rivergen.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        # A TCP connect is not enough for Redis: one round trip proves it answers.
        conn.default_channel
    return None

