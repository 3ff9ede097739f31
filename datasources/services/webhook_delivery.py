"""Sending one delivery: sign, POST to the address the network policy checked, log, retry later.

A delivery is claimed before it is sent (``next_attempt_at`` moves past the request's timeout),
so the task and the periodic sweep never send it twice at once. Failures are retried after
``WEBHOOK_RETRY_DELAYS`` (30 s, 2, 5, 15, 40 min: six attempts over about an hour).
Nothing here logs or stores the secret, the signature or the response body.
"""
import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

import httpx
from django.conf import settings
from django.utils import timezone

from datasources.models import WebhookAttempt, WebhookDelivery
from datasources.models.webhooks import PING
from datasources.security import network
from datasources.services.jobs import enqueue_after_commit
from rivergen.errors import ConnectorError

logger = logging.getLogger(__name__)
USER_AGENT = "RiverGen-Webhooks/1"
CLAIM_MARGIN_SECONDS = 30


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under the endpoint's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_delays() -> list[int]:
    return list(settings.WEBHOOK_RETRY_DELAYS)


def delivery_attempt(delivery_id: int, *, now=None) -> WebhookDelivery | None:
    """Make the next attempt of a due delivery; None when it is not due or another worker has it."""
    now = now or timezone.now()
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now,
    ).update(next_attempt_at=now + timedelta(seconds=timeout + CLAIM_MARGIN_SECONDS))
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if not delivery.webhook.is_active and delivery.event_type != PING:
        return _give_up(delivery, now, "The endpoint was deactivated; the delivery was not sent.")
    started = time.monotonic()
    response_status, error = _send(delivery, timeout)
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(delivery, now, response_status, error, duration_ms)


def _send(delivery: WebhookDelivery, timeout: float) -> tuple[int | None, str | None]:
    webhook = delivery.webhook
    if not isinstance(webhook.secret, str):
        return None, "The signing secret cannot be read with the current keys; rotate it."
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-RiverGen-Event": delivery.event_type, "X-RiverGen-Delivery": str(delivery.delivery_id),
        "X-RiverGen-Timestamp": timestamp, "X-RiverGen-Signature": sign(webhook.secret, timestamp, body),
    }
    try:
        response = post_pinned(webhook.url, body, headers, timeout)
    except ConnectorError as exc:
        return None, f"{exc.code}: {exc.message}"[:255]
    return response.status_code, None


def post_pinned(url: str, body: bytes, headers: dict, timeout: float):
    """POST to ``url`` at the address the network policy allows now; redirects are not followed."""
    parts, port = network.split_url(url)  # ConnectorError for a URL stored before the check existed
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    address = network.checked_address(host, port)  # ConnectorError when refused
    shown = f"[{address}]" if ":" in address else address
    target = f"{scheme}://{shown}:{port}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    host_header = host if port in (80, 443) else f"{host}:{port}"
    extensions = {"sni_hostname": host} if scheme == "https" else {}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST", target, content=body, headers={**headers, "Host": host_header}, extensions=extensions,
            )
            return client.send(request)
    except httpx.TimeoutException:
        raise ConnectorError("TIMEOUT", f"{host} did not answer within {timeout:g} s.") from None
    except httpx.HTTPError as exc:
        raise ConnectorError("CONNECTION_FAILED", f"Cannot deliver to {host}:{port} ({type(exc).__name__}).") from None


def _record(delivery, attempted_at, response_status, error, duration_ms) -> WebhookDelivery:
    number = delivery.attempts + 1
    succeeded = response_status is not None and 200 <= response_status < 300
    if response_status is not None and not succeeded:
        error = f"HTTP {response_status}" + (" (redirects are not followed)" if 300 <= response_status < 400 else "")
    delays = retry_delays()
    next_retry_at = None
    if not succeeded and number <= len(delays):
        next_retry_at = attempted_at + timedelta(seconds=delays[number - 1])
    status = (
        WebhookDelivery.Status.SUCCEEDED if succeeded
        else WebhookDelivery.Status.PENDING if next_retry_at else WebhookDelivery.Status.FAILED
    )
    WebhookAttempt.objects.create(
        delivery=delivery, number=number, attempted_at=attempted_at, response_status=response_status,
        duration_ms=duration_ms, error=error, next_retry_at=next_retry_at,
    )
    fields = dict(status=status, attempts=number, next_attempt_at=next_retry_at,
                  response_status=response_status, duration_ms=duration_ms, error=error)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    if not succeeded:
        logger.info("Webhook delivery %s attempt %d failed: %s", delivery.delivery_id, number, error)
    return delivery


def _give_up(delivery, now, reason: str) -> WebhookDelivery:
    WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts + 1, attempted_at=now, error=reason)
    delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.error = (
        WebhookDelivery.Status.FAILED, delivery.attempts + 1, None, reason)
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "error"])
    return delivery


def deliveries_queue_due(*, now=None, limit: int = 500) -> int:
    """Queue the pending deliveries whose next attempt is due (retries, and any the broker never took)."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:  # the attempt's own claim keeps a delivery queued twice from being sent twice
        enqueue_after_commit("deliver_webhook", delivery_id)
    return len(due)
