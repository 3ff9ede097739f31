"""Connection tests in flight, one row each, so that every web process and worker counts the same ones."""
from django.conf import settings
from django.db import models


class ConnectionTestSlot(models.Model):
    """A connection test being run for a user; it expires after the test's own deadline.

    A process that dies mid-test leaves its row behind; ``expires_at`` (the test's timeout and a
    margin) makes that slot free again without anyone cleaning up.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"connection test of user {self.user_id} until {self.expires_at:%H:%M:%S}"
