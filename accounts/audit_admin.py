"""The audit log in the admin: read only (nothing can be added, changed or deleted), with filters.

Superusers see every event; other staff see those of the organizations they administer.
"""
import json

from django.contrib import admin
from django.utils.html import format_html

from accounts.admin_base import ReadOnlyAdmin
from accounts.audit import AuditEvent
from accounts.selectors import admin_organization_ids


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "action", "actor_type", "actor_label", "target_type", "target_name",
                    "organization_id", "via", "ip")
    list_filter = ("action", "actor_type", "target_type", "via", "occurred_at")
    search_fields = ("actor_label", "target_name", "request_id")
    date_hierarchy = "occurred_at"
    fields = ("occurred_at", "organization_id", "action", "actor_type", "actor_id", "actor_label", "target_type",
              "target_id", "target_name", "changes_shown", "request_id", "ip", "user_agent", "via")
    readonly_fields = fields
    actions = None  # no "delete selected"

    def get_queryset(self, request):
        events = super().get_queryset(request)
        if request.user.is_superuser:
            return events
        return events.filter(organization_id__in=admin_organization_ids(request.user))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and (
            request.user.is_superuser or bool(admin_organization_ids(request.user)))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    @admin.display(description="changes")
    def changes_shown(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.changes, indent=2, sort_keys=True))
