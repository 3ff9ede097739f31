"""The Idempotency-Key header (IETF draft "The Idempotency-Key HTTP Header Field") on POST routes.

A client that times out may send the same request again with the same key and get the first
answer back (``Idempotent-Replayed: true``) instead of a second write or a 409 for its own source.
The key (1-255 visible ASCII characters) is scoped to (principal, method, path) and kept
IDEMPOTENCY_KEY_TTL_HOURS. A unique constraint decides which of two racing requests runs; the
other gets 409 IDEMPOTENCY_KEY_IN_USE while it runs, then the stored answer. The same key with
another body is 422 IDEMPOTENCY_KEY_REUSED. Answers of 5xx and 429 are not kept (the request
may be retried). The first request's work and its stored answer commit in one transaction.
"""
import hashlib
import hmac
import json
import re
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.models import IdempotentRequest
from rivergen.api import error_body

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_SHAPE = re.compile(r"\A[\x21-\x7e]{1,255}\Z")
# A claim whose request never finished (its process died) is given up after this long.
ABANDONED_AFTER = timedelta(minutes=10)
IN_USE_RETRY_AFTER = 1

PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    pattern=r"^[\x21-\x7e]{1,255}$",
    description=(
        "Optional. Send the same key again with the same body to get the first answer back "
        f"(with `{REPLAYED}: true`) instead of running the request twice. Scoped to you, the method "
        "and the path; kept IDEMPOTENCY_KEY_TTL_HOURS (default 24). Another body with the same key: "
        "422 IDEMPOTENCY_KEY_REUSED; while the first request runs: 409 IDEMPOTENCY_KEY_IN_USE with Retry-After."
    ),
)


def idempotent(handler):
    """Wrap a view's POST handler (``def create(self, request, ...)``) to honour Idempotency-Key."""

    @extend_schema(parameters=[PARAMETER])
    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not KEY_SHAPE.match(key):
            raise ValidationError({HEADER: ["Give 1 to 255 visible ASCII characters."]})
        scope = {"principal": request.user, "method": request.method, "path": request.path.rstrip("/"), "key": key}
        fingerprint = _fingerprint(request)
        record, ours = _claim(scope, fingerprint)
        if not ours:
            return _answer_for(record, fingerprint)
        return _run_and_keep(record, view, handler, request, args, kwargs)

    return wrapper


def _run_and_keep(record, view, handler, request, args, kwargs):
    kept = False
    try:
        with transaction.atomic():
            response = handler(view, request, *args, **kwargs)
            if _keepable(response.status_code):
                kept = _keep(record, response)
    except Exception as exc:  # the envelope's handler answers it, as it would without the header
        response = view.handle_exception(exc)
    if not kept:
        if _keepable(response.status_code):
            _keep(record, response)  # an error answer: nothing was written
        else:
            IdempotentRequest.objects.filter(pk=record.pk).delete()  # may be retried with the same key
    return response


def _keepable(status: int) -> bool:
    return status < 500 and status != 429


def _keep(record, response) -> bool:
    record.status = response.status_code
    record.body = JSONRenderer().render(response.data).decode()
    record.save(update_fields=["status", "body"])
    return True


def _claim(scope, fingerprint) -> tuple[IdempotentRequest, bool]:
    """(the row for this key, whether this request inserted it and so runs)."""
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(
                    **scope, fingerprint=fingerprint, created_at=now,
                    expires_at=now + timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS),
                ), True
        except IntegrityError:
            pass
        existing = IdempotentRequest.objects.filter(**scope).first()
        if existing is None:
            continue  # freed meanwhile: try again
        stale = (
            existing.expires_at <= now
            or (existing.status is None and existing.created_at <= now - ABANDONED_AFTER)
            or not isinstance(existing.body, str)  # encrypted under keys no longer configured: unreadable
        )
        if not stale:
            return existing, False
        IdempotentRequest.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()


def _answer_for(record, fingerprint) -> Response:
    if not hmac.compare_digest(record.fingerprint, fingerprint):
        message = "This Idempotency-Key was used with another request body; use a new key for a new request."
        return Response(error_body(422, message, code="IDEMPOTENCY_KEY_REUSED"), status=422)
    if record.status is None:
        message = "A request with this Idempotency-Key is still running; retry shortly to get its answer."
        return Response(error_body(409, message, code="IDEMPOTENCY_KEY_IN_USE"), status=409,
                        headers={"Retry-After": str(IN_USE_RETRY_AFTER)})
    return Response(json.loads(record.body), status=record.status, headers={REPLAYED: "true"})


def _fingerprint(request) -> str:
    """A keyed hash of the body: canonical JSON, with each uploaded file as its SHA-256. Keyed,
    because a body may hold a weak password that a plain hash would let anyone with the table test."""
    data = request.data
    if hasattr(data, "lists"):  # a form: every value, files by their content
        data = {name: [_file_digest(v) if hasattr(v, "chunks") else v for v in values] for name, values in data.lists()}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hmac.new(settings.SECRET_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"file:{upload.name}:{upload.size}:{digest.hexdigest()}"
