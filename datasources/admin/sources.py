from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.utils.html import format_html_join

from accounts.selectors import can_write, visible_organizations, writable_organizations
from datasources.admin.forms import (
    CREDENTIAL_KEYS,
    PLAIN_FIELDS,
    SECRET_KEYS,
    DataSourceAdminForm,
    credential_field_name,
)
from datasources.models import DataSource, StoredFile
from datasources.services.sources import data_source_delete


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Staff who are not superusers see and change only what belongs to their organizations."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(organization__in=visible_organizations(request.user))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request) and writable_organizations(request.user).exists()

    def has_change_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return can_write(request.user, obj.organization) if obj else self.has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)


@admin.register(DataSource)
class DataSourceAdmin(OrganizationScopedAdmin):
    form = DataSourceAdminForm
    list_display = ("name", "type", "status", "organization", "workspace", "tag_list", "updated_at")
    list_filter = ("type", "status", "organization", "schema_auto_refresh")
    search_fields = ("name", "description", "host")
    list_select_related = ("organization", "workspace")
    readonly_fields = (
        "credentials_set", "status", "last_tested_at", "last_successful_connection_at",
        "last_failed_connection_at", "failure_count", "failure_reason", "schema_discovered_at",
        "created_by", "created_at", "updated_by", "updated_at",
    )

    def get_fieldsets(self, request, obj=None):
        connection = [f for f in PLAIN_FIELDS if f not in ("name", "type", "description", "metadata")]
        return [
            (None, {"fields": ["organization", "workspace", "name", "type", "description", "tags", "metadata"]}),
            ("Connection", {"fields": connection + ["connection_string"]}),
            ("Credentials", {"fields": [credential_field_name(k) for k in CREDENTIAL_KEYS] + ["credentials_set"]}),
            ("Health", {"fields": list(self.readonly_fields[1:])}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The form declares its own fields; a viewer's read-only page needs them named, since
        # Django excludes every field of a change form the user may not change.
        readonly = change and not self.has_change_permission(request, obj)
        kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj)) if readonly else None
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return RequestForm

    @admin.display(description="tags")
    def tag_list(self, obj):
        return ", ".join(obj.tags or [])

    @admin.display(description="Secrets set")
    def credentials_set(self, obj):
        credentials = obj.credentials if isinstance(obj.credentials, dict) else None
        if credentials is None:
            return "unreadable with the current keys: re-enter the credentials"
        names = [k for k in CREDENTIAL_KEYS if k in SECRET_KEYS and credentials.get(k)]
        if obj.connection_string:
            names.append("connection_string")
        return format_html_join(", ", "{}", ((n,) for n in names)) or "none"

    def save_model(self, request, obj, form, change):
        """Nothing to do: the form's validation already wrote through the service."""

    def delete_model(self, request, obj):
        data_source_delete(source=obj)

    def delete_queryset(self, request, queryset):
        for source in queryset:
            data_source_delete(source=source)


@admin.register(StoredFile)
class StoredFileAdmin(OrganizationScopedAdmin):
    list_display = ("name", "size", "organization", "created_at")
    list_filter = ("organization",)
    search_fields = ("name", "filename")
    readonly_fields = ("organization", "name", "filename", "size", "content_type", "uploaded_by", "created_at")

    def has_add_permission(self, request):
        return False  # uploads go through POST /api/v1/storage/files
