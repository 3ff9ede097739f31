"""Read-only admin pages of webhooks and their deliveries, for staff of the organization.

Endpoints are managed through the API (``/api/v1/webhooks``), where the secret is shown once;
here the secret is never displayed, and nothing can be added, changed or deleted.
"""
from django.contrib import admin
from django.utils.html import format_html

from accounts.selectors import visible_organizations
from datasources.admin.display import compact_time, url_host
from datasources.models import Webhook, WebhookAttempt, WebhookDelivery


class ReadOnlyOrganizationAdmin(admin.ModelAdmin):
    organization_path = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.organization_path}__in": visible_organizations(request.user)})

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyOrganizationAdmin):
    list_display = ("url", "organization", "event_list", "is_active", "created_at")
    list_filter = ("is_active", "organization")
    search_fields = ("url", "description")
    fields = ("organization", "url", "events", "is_active", "description", "created_by", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="events")
    def event_list(self, obj):
        return ", ".join(obj.events or [])


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "attempted_at", "response_status", "duration_ms", "error", "next_retry_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyOrganizationAdmin):
    organization_path = "webhook__organization"
    # Compact cells (datasources/admin/display.py): every column fits at 1280 px with the sidebar open.
    list_display = ("event", "endpoint", "status_and_attempts", "response", "next_attempt", "created")
    list_filter = ("status", "event_type")
    list_select_related = ("webhook",)
    fields = (
        "webhook", "delivery_id", "event_id", "event_type", "status", "attempts", "response_status",
        "duration_ms", "error", "next_attempt_at", "payload", "created_at",
    )
    readonly_fields = fields
    inlines = [WebhookAttemptInline]

    @admin.display(description="event", ordering="event_type")
    def event(self, obj):
        return obj.event_type.removeprefix("data_source.").replace("_", " ")  # wraps: "health changed"

    @admin.display(description="endpoint", ordering="webhook__url")
    def endpoint(self, obj):
        return url_host(obj.webhook.url)

    @admin.display(description="status", ordering="status")
    def status_and_attempts(self, obj):
        return format_html('{}<br><span class="rg-muted-cell">{} attempt(s)</span>', obj.get_status_display(),
                           obj.attempts)

    @admin.display(description="response", ordering="response_status")
    def response(self, obj):
        return obj.response_status if obj.response_status is not None else "—"

    @admin.display(description="next attempt", ordering="next_attempt_at")
    def next_attempt(self, obj):
        return compact_time(obj.next_attempt_at, empty="—")

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return compact_time(obj.created_at)
