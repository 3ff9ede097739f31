"""Reads about who belongs where, shared by the API, the admin and the commands."""
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connection

from accounts.models import WRITE_ROLES, ApiKey, Membership, Organization, Role, Workspace

WRITE_REFUSED = "Your role in this organization may not create or change data sources."
SCOPED_NEEDS_WORKSPACE = "This API key is limited to some workspaces; give workspace_id to choose one of them."


def workspace_scope(user) -> list[int] | None:
    """The workspaces an API key's identity is limited to; None for a person or a key of a whole
    organization. Everything a principal reads or creates is narrowed by it, on top of its memberships."""
    try:
        key = user.api_key
    except (AttributeError, ObjectDoesNotExist):
        return None
    return key.workspace_ids


def check_workspace_in_scope(user, workspace_id) -> None:
    """A workspace outside a scoped key's workspaces is the same 400 as one that does not exist."""
    scope = workspace_scope(user)
    if scope is None:
        return
    if workspace_id is None:
        raise ValidationError({"workspace_id": [SCOPED_NEEDS_WORKSPACE]})
    if workspace_id not in scope:
        raise ValidationError({"workspace_id": ["Workspace not found."]})


def admin_organization_ids(user) -> list[int]:
    """The organizations ``user`` administers as a whole (a workspace-scoped key administers none)."""
    if user.is_superuser:
        return list(Organization.objects.values_list("pk", flat=True))
    if workspace_scope(user) is not None:
        return []
    return list(Membership.objects.filter(user=user, role=Role.ADMIN).values_list("organization_id", flat=True))


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


def administered_organization_id(user, organization_id, *, refused: str) -> int:
    """The organization an admin names (``organization_id``), or the only one they administer.

    PermissionDenied(``refused``) for a user who administers none; a 400 on ``organization_id``
    for one they do not administer (the same as one that does not exist).
    """
    admin_of = admin_organization_ids(user)
    if not admin_of:
        raise PermissionDenied(refused)
    if organization_id is None:
        if len(admin_of) > 1:
            raise ValidationError({"organization_id": ["You administer several organizations; name one."]})
        return admin_of[0]
    if organization_id not in admin_of:
        raise ValidationError({"organization_id": ["Organization not found."]})
    return organization_id


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
    check_workspace_in_scope(user, workspace_id)
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


KEYS_ADMINS_ONLY = "Only organization admins, signed in as themselves, manage API keys."
KEYS_MANAGE_NO_KEYS = "An API key cannot manage API keys; sign in as an organization admin."


def require_key_manager(user) -> None:
    """Keys are managed by people who administer an organization, never by a key."""
    if hasattr(user, "api_key"):
        raise PermissionDenied(KEYS_MANAGE_NO_KEYS)


def api_keys_visible_to(user):
    """The keys of the organizations ``user`` administers (newest first); PermissionDenied for
    an API key or a user who administers nothing."""
    require_key_manager(user)
    organization_ids = admin_organization_ids(user)
    if not organization_ids:
        raise PermissionDenied(KEYS_ADMINS_ONLY)
    return ApiKey.objects.filter(organization_id__in=organization_ids).select_related("created_by")


def administered_organization_ids(user, refusal: str) -> list[int]:
    """``admin_organization_ids``, or PermissionDenied(``refusal``) for a user who is admin nowhere."""
    organization_ids = admin_organization_ids(user)
    if not organization_ids:
        raise PermissionDenied(refusal)
    return organization_ids
