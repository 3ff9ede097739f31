import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Organization, Role, Workspace

PASSWORD_FILE = Path(settings.BASE_DIR) / ".local" / "admin-password"


class Command(BaseCommand):
    help = "Make sure a local admin account (with an organization and workspace) exists; say how to log in."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        user = User.objects.filter(username="admin").first()
        if user is None:
            password = secrets.token_urlsafe(16)
            user = User.objects.create_superuser("admin", "admin@localhost", password)
            PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)
        organization, _ = Organization.objects.get_or_create(name="Default")
        Workspace.objects.get_or_create(organization=organization, name="Default")
        Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
        where = PASSWORD_FILE if PASSWORD_FILE.exists() else "the password you set"
        self.stdout.write(
            f"Admin: log in at /admin/ as 'admin' with the password in {where} "
            f"(API token: POST /api/v1/auth/token)."
        )
