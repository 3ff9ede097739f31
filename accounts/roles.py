"""The roles a member (a person or an API key) has in an organization."""
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


WRITE_ROLES = (Role.ADMIN, Role.EDITOR)
