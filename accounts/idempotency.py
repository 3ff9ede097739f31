"""The stored answers behind the Idempotency-Key header (``rivergen.idempotency`` uses them).

One row per (principal, method, path, key), unique in the database, so that of two requests
racing with one key exactly one inserts and runs; the other reads this row. ``status`` is null
while the first request runs. The body is stored encrypted: a create's answer may hold a secret
shown once (a webhook's signing secret), and a replay must give it back unchanged.
"""
from django.conf import settings
from django.db import models

from datasources.security.crypto import TolerantEncryptedTextField


class IdempotentRequest(models.Model):
    principal = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=1024)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # HMAC of the request body: never the body itself
    status = models.PositiveSmallIntegerField(null=True)
    body = TolerantEncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "method", "path", "key"], name="idempotency_key_unique"),
        ]
