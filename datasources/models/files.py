"""Uploaded files that file sources read, stored through Django's storage API."""
from django.conf import settings
from django.db import models

from accounts.models import Organization


class StoredFile(models.Model):
    """An uploaded file; ``name`` is its storage path and the value for ``file_path``."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=1024, unique=True, null=True)
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    content_type = models.CharField(max_length=255, blank=True, default="")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name or self.filename
