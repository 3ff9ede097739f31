"""Data sources: where the data is, how to reach it (secrets encrypted), and their health fields."""
import hashlib

from django.conf import settings
from django.db import models

from accounts.models import Organization, Workspace
from datasources.connectors import TYPE_CHOICES
from datasources.security.crypto import (
    TolerantEncryptedJSONField,
    TolerantEncryptedTextField,
)

NAME_KEY_LENGTH = 255


class Status(models.TextChoices):
    INACTIVE = "inactive", "Inactive"
    ACTIVE = "active", "Active"
    ERROR = "error", "Error"


def name_key(name: str) -> str:
    """The form of a name that uniqueness compares: trimmed and case-folded."""
    key = name.strip().casefold()
    if len(key) > NAME_KEY_LENGTH:
        # Case folding can lengthen a 255-character name ("ß" -> "ss"); a digest keeps
        # the comparison exact within the column's length.
        key = key[: NAME_KEY_LENGTH - 65] + "#" + hashlib.sha256(key.encode()).hexdigest()
    return key


class DataSource(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="data_sources")
    workspace = models.ForeignKey(
        Workspace, on_delete=models.SET_NULL, null=True, blank=True, related_name="data_sources"
    )
    name = models.CharField(max_length=255)
    name_key = models.CharField(max_length=NAME_KEY_LENGTH, editable=False)
    type = models.CharField(max_length=32, choices=TYPE_CHOICES)
    description = models.TextField(null=True, blank=True)

    host = models.CharField(max_length=255, null=True, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    database_name = models.CharField(max_length=255, null=True, blank=True)
    schema_name = models.CharField(max_length=255, null=True, blank=True)
    connection_string = TolerantEncryptedTextField(null=True, blank=True)
    file_path = models.CharField(max_length=1024, null=True, blank=True)

    use_ssh_tunnel = models.BooleanField(default=False)
    ssh_host = models.CharField(max_length=255, null=True, blank=True)
    ssh_port = models.PositiveIntegerField(null=True, blank=True)
    ssh_username = models.CharField(max_length=255, null=True, blank=True)
    ssh_key_id = models.PositiveIntegerField(null=True, blank=True)
    ssh_local_port = models.PositiveIntegerField(null=True, blank=True)
    # {"mode", "ca_certificate", "client_certificate"} (public material; the key is a credential);
    # null: the type's default mode.
    tls = models.JSONField(null=True, blank=True)
    # The server certificate of the last successful test ({subject, issuer, not_after, days_left,
    # sha256}), and the sha256 of the one whose coming expiry was last announced.
    tls_server_certificate = models.JSONField(null=True, blank=True, editable=False)
    tls_expiry_announced = models.CharField(max_length=64, null=True, blank=True, editable=False)

    connection_pool_size = models.PositiveIntegerField(default=5)
    connection_timeout = models.PositiveIntegerField(default=30)
    query_timeout = models.PositiveIntegerField(default=300)
    max_retries = models.PositiveIntegerField(default=3)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INACTIVE)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_successful_connection_at = models.DateTimeField(null=True, blank=True)
    last_failed_connection_at = models.DateTimeField(null=True, blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(null=True, blank=True)

    schema_discovered_at = models.DateTimeField(null=True, blank=True)
    # The stored catalogue's tables per schema, written in the transaction that stores it, so a
    # page of the catalogue is not counted by reading 100,000 rows. None: not known (read the rows).
    schema_table_counts = models.JSONField(null=True, blank=True, editable=False)
    schema_auto_refresh = models.BooleanField(default=True)
    schema_refresh_interval = models.PositiveIntegerField(default=3600)

    # Scheduled connection tests: 0 turns them off. A round claims a due source until
    # ``health_claimed_until`` (its own connection_timeout and a margin), so two workers never
    # test it at once and a worker that dies loses it only until the claim expires.
    health_check_interval = models.PositiveIntegerField(default=300)
    health_next_check_at = models.DateTimeField(null=True, blank=True)
    health_claim = models.UUIDField(null=True, blank=True, editable=False)
    health_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    credentials = TolerantEncryptedJSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name_key"], name="datasource_name_unique_in_org"),
        ]
        indexes = [
            models.Index(fields=["organization", "type"]),
            models.Index(fields=["organization", "status"]),
            # The list's default order (newest first) reads a page without sorting the organization.
            models.Index(fields=["organization", "-created_at", "-id"], name="datasource_org_newest"),
            models.Index(fields=["health_next_check_at"], name="datasource_health_due"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)
