"""The health history of a source: one row per connection test, whatever started it."""
from django.db import models

from datasources.models.sources import DataSource


class HealthCheck(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual"
        SCHEDULED = "scheduled", "Scheduled"
        CREATED = "created", "After create"

    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="health_checks")
    checked_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices)
    error_code = models.CharField(max_length=64, null=True, blank=True)
    message = models.TextField(blank=True, default="")  # scrubbed of the source's secrets
    latency_ms = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    certificate_not_after = models.DateTimeField(null=True, blank=True)  # the server certificate's expiry

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(fields=["data_source", "-checked_at"], name="healthcheck_source_newest"),
            models.Index(fields=["checked_at"], name="healthcheck_checked_at"),  # retention pruning
        ]

    def __str__(self):
        return f"{self.data_source_id} {self.status} at {self.checked_at:%Y-%m-%d %H:%M:%S}"
