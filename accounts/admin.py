from django.contrib import admin

from accounts.admin_base import ReadOnlyAdmin
from accounts.api_key_services import api_key_revoke
from accounts.models import ApiKey, Membership, Organization, Workspace
from accounts.selectors import admin_organization_ids


class WorkspaceInline(admin.TabularInline):
    model = Workspace
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    inlines = [WorkspaceInline, MembershipInline]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "created_at")
    list_filter = ("organization",)
    search_fields = ("name", "organization__name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "organization__name")
    autocomplete_fields = ("user",)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are listed and revoked here; they are created and rotated through the API, which shows
    the key once. The hash is never displayed."""

    list_display = ("name", "prefix", "organization", "role", "scope", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("role", "organization")
    search_fields = ("name", "prefix", "organization__name")
    fields = ("name", "prefix", "organization", "role", "scope", "identity", "created_by", "created_at",
              "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def get_queryset(self, request):
        keys = super().get_queryset(request).select_related("organization")
        return keys if request.user.is_superuser else keys.filter(organization_id__in=admin_organization_ids(request.user))

    @admin.display(description="scope")
    def scope(self, api_key):
        if api_key.workspace_ids is None:
            return "whole organization"
        return "workspaces " + ", ".join(str(pk) for pk in api_key.workspace_ids)

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        for api_key in queryset.select_related("identity"):
            api_key_revoke(api_key=api_key, actor=request.user)
        self.message_user(request, f"{queryset.count()} API key(s) revoked.")


from accounts import audit_admin  # noqa: E402,F401  (registers the audit log's read-only admin)
