"""Writes for organizations, workspaces and users, shared by the commands and the admin."""
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Organization, Role, Workspace


@transaction.atomic
def organization_create(*, name: str, workspaces: list[str] = ()) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["The organization needs a name."]})
    if Organization.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": [f'An organization named "{name}" already exists.']})
    organization = Organization.objects.create(name=name)
    for workspace in dict.fromkeys(w.strip() for w in workspaces):
        if not workspace:
            raise ValidationError({"workspace": ["A workspace needs a name."]})
        Workspace.objects.create(organization=organization, name=workspace)
    return organization


@transaction.atomic
@transaction.atomic  # a refused organization or role leaves no user behind
def user_create(*, username: str, password: str, email: str = "", organization_id=None, role=None, staff=False):
    """``staff``: may sign in at /admin/, where it sees and changes only its organizations' sources,
    as its role there allows (not a superuser)."""
    User = get_user_model()
    username = username.strip()
    if not username:
        raise ValidationError({"username": ["A username is required."]})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [f'The username "{username}" is taken.']})
    if staff and organization_id is None:
        raise ValidationError({"organization": ["A staff user needs an organization (--organization): "
                                                "the admin shows only its organizations' sources."]})
    user = User(username=username, email=email, is_staff=bool(staff))
    validate_password(password, user)
    user.set_password(password)
    user.save()
    if organization_id is not None:
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            raise ValidationError({"organization": [f"No organization with id {organization_id}."]})
        if role not in Role.values:
            raise ValidationError({"role": [f"Role must be one of {', '.join(Role.values)}."]})
        Membership.objects.create(user=user, organization=organization, role=role)
    return user
