"""The audit log's table: one row per change or security act, never changed afterwards.

Rows name their organization, actor and target by id and label, not by foreign key: an event
outlives the user, source or organization it is about, and deleting one of those must never
touch (or be refused by) the log. On PostgreSQL a trigger refuses UPDATE and DELETE of rows,
except the retention prune (migration 0002_audit_events, ``accounts.audit_log.audit_prune``).
"""
import datetime as dt

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

ACTIONS = (
    "data_source.created", "data_source.updated", "data_source.deleted", "data_source.tested",
    "data_source.discovery_requested", "data_source.credentials_changed",
    "file.uploaded", "file.deleted",
    "webhook.created", "webhook.updated", "webhook.deleted", "webhook.secret_rotated",
    "api_key.created", "api_key.rotated", "api_key.revoked",
    "auth.login_failed", "auth.locked_out",
    "encryption_keys.rotated",
)
ACTOR_TYPES = ("user", "api_key", "system")
TARGET_TYPES = ("data_source", "file", "webhook", "api_key", "user", "encryption_keys")


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(default=timezone.now)
    organization_id = models.BigIntegerField(null=True, blank=True)  # null: no one organization's (keys, unknown users)
    action = models.CharField(max_length=64)
    actor_type = models.CharField(max_length=16)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_name = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    via = models.CharField(max_length=16)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["organization_id", "-occurred_at", "-id"], name="audit_org_newest"),
            models.Index(fields=["target_type", "target_id", "-occurred_at"], name="audit_target_newest"),
            models.Index(fields=["occurred_at"], name="audit_occurred"),
        ]

    def __str__(self):
        return f"{self.action} by {self.actor_label or self.actor_type} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def as_dict(self) -> dict:
        """The event as the API and the export show it."""
        return {
            "id": self.pk,
            "occurred_at": self.occurred_at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "organization_id": self.organization_id,
            "action": self.action,
            "actor": {"type": self.actor_type, "id": self.actor_id, "label": self.actor_label},
            "target": {"type": self.target_type or None, "id": self.target_id, "name": self.target_name},
            "changes": self.changes,
            "request": {"id": self.request_id or None, "ip": self.ip, "user_agent": self.user_agent,
                        "via": self.via},
        }
