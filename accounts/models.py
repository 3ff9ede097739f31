from django.conf import settings
from django.db import models

from accounts.roles import WRITE_ROLES, Role


class Organization(models.Model):
    name = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class Workspace(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="workspaces")
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="workspace_name_unique_in_org"),
        ]

    def __str__(self):
        return f"{self.organization.name} / {self.name}"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
        ]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_write(self):
        return self.role in WRITE_ROLES


# Defined in their own modules; imported here so that Django registers them with the app.
from accounts.api_keys import ApiKey  # noqa: E402
from accounts.audit import AuditEvent  # noqa: E402
from accounts.idempotency import IdempotentRequest  # noqa: E402

__all__ = ["ApiKey", "AuditEvent", "IdempotentRequest", "Membership", "Organization", "Role", "WRITE_ROLES", "Workspace"]
