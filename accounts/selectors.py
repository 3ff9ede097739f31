"""Reads about who belongs where, shared by the API, the admin and the commands."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.models import WRITE_ROLES, Membership, Organization, Role, Workspace

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


def write_target_of(user, workspace_id) -> tuple[Organization, int | None]:
    """``write_target(memberships_of(user), workspace_id)`` as (organization, workspace id), in one
    query when a workspace is named: the create path's hot read.

    The organization and the user's role in it come back together, through a raw query: the ORM
    spent ten times as long compiling the join as the database did running it. Any miss goes the
    long way, which raises the same errors in the same order.
    """
    if workspace_id is not None:
        found = next(iter(Organization.objects.raw(_target_sql(), [user.pk, workspace_id])), None)
        if found is not None:
            if found.member_role not in WRITE_ROLES:
                raise PermissionDenied(WRITE_REFUSED)
            return found, workspace_id
    organization, workspace = write_target(memberships_of(user), workspace_id)
    return organization, workspace.pk if workspace else None


def _target_sql() -> str:
    """The organization that holds workspace %s (2nd) with the role of user %s (1st) in it."""
    q = connection.ops.quote_name
    o, m, w = (q(model._meta.db_table) for model in (Organization, Membership, Workspace))
    return (
        f"SELECT {o}.*, {m}.{q('role')} AS member_role FROM {o}"
        f" JOIN {m} ON {m}.{q('organization_id')} = {o}.{q('id')}"
        f" JOIN {w} ON {w}.{q('organization_id')} = {o}.{q('id')}"
        f" WHERE {m}.{q('user_id')} = %s AND {w}.{q('id')} = %s"
    )


def can_write(user, organization) -> bool:
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, organization=organization, role__in=WRITE_ROLES).exists()


def admin_organization_ids(user) -> list[int]:
    """The organizations ``user`` administers (every one for a superuser)."""
    if user.is_superuser:
        return list(Organization.objects.values_list("pk", flat=True))
    return list(Membership.objects.filter(user=user, role=Role.ADMIN).values_list("organization_id", flat=True))


def administered_organization_ids(user, refusal: str) -> list[int]:
    """``admin_organization_ids``, or PermissionDenied(``refusal``) for a user who is admin nowhere."""
    organization_ids = admin_organization_ids(user)
    if not organization_ids:
        raise PermissionDenied(refusal)
    return organization_ids
