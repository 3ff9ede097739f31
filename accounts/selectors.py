"""Reads about who belongs where, shared by the API, the admin and the commands."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F

from accounts.models import WRITE_ROLES, Membership, Organization, Workspace

WRITE_REFUSED = "Your role in this organization may not create or change data sources."


def organization_ids_for(user) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def writable_organizations(user):
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__user=user, memberships__role__in=WRITE_ROLES)


def visible_organizations(user):
    if user.is_superuser:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__user=user)


def memberships_of(user) -> list[Membership]:
    """The user's memberships; PermissionDenied (403) when there are none."""
    memberships = list(Membership.objects.filter(user=user).select_related("organization"))
    if not memberships:
        raise PermissionDenied("You are not a member of any organization.")
    return memberships


def write_target(memberships, workspace_id):
    """The (organization, workspace) a new source goes to ("automatic organization assignment").

    Raises PermissionDenied without a write role, and ValidationError on
    ``workspace_id`` for a workspace the user cannot see (the same message
    whether it exists in another organization or not at all).
    """
    by_org = {m.organization_id: m for m in memberships}
    workspace = None
    if workspace_id is not None:
        workspace = Workspace.objects.filter(pk=workspace_id, organization_id__in=by_org).first()
        if workspace is None:
            raise ValidationError({"workspace_id": ["Workspace not found."]})
        membership = by_org[workspace.organization_id]
    elif len(memberships) == 1:
        membership = memberships[0]
    else:
        raise ValidationError({"workspace_id": [
            "You belong to several organizations; give workspace_id to choose where the source goes."
        ]})
    if not membership.can_write:
        raise PermissionDenied(WRITE_REFUSED)
    return membership.organization, workspace


def write_target_of(user, workspace_id):
    """``write_target(memberships_of(user), workspace_id)``, in one query when a workspace is named.

    The create path's hot read: the workspace, its organization and the user's role come back
    together; any miss goes the long way, which raises the same errors in the same order.
    """
    if workspace_id is not None:
        workspace = (
            Workspace.objects.select_related("organization")
            .filter(pk=workspace_id, organization__memberships__user=user)
            .annotate(role=F("organization__memberships__role"))
            .first()
        )
        if workspace is not None:
            if workspace.role not in WRITE_ROLES:
                raise PermissionDenied(WRITE_REFUSED)
            return workspace.organization, workspace
    return write_target(memberships_of(user), workspace_id)


def can_write(user, organization) -> bool:
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, organization=organization, role__in=WRITE_ROLES).exists()
