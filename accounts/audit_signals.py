"""Failed logins and lockouts (django-axes) into the audit log, from the API and the admin alike.

One event per organization the named user belongs to, so each organization's admins see attempts
on their people; a username nobody has (or a user in no organization) gives one event of no
organization, which only superusers see in the admin.
"""
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.dispatch import receiver

from accounts.audit_log import record
from accounts.models import Membership


def _record_login_event(action: str, username) -> None:
    username = str(username or "")[:150]
    user = get_user_model().objects.filter(username=username).first() if username else None
    organizations = list(Membership.objects.filter(user=user).values_list("organization_id", flat=True)) if user else []
    target = ("user", user.pk if user else None, username)
    with transaction.atomic():
        for organization_id in organizations or [None]:
            record(action, organization_id=organization_id, target=target)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials=None, request=None, **kwargs):
    _record_login_event("auth.login_failed", (credentials or {}).get("username"))


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    _record_login_event("auth.locked_out", username)
