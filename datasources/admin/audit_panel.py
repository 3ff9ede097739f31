"""The change page's "Audit log" panel: the source's last events, for its organization's admins."""
from accounts.audit_reads import audit_events_of_target
from accounts.selectors import admin_organization_ids
from datasources.admin.panels import Panel, register

RECENT_EVENTS = 20


@register
class AuditPanel(Panel):
    key, title, order = "audit", "Audit log", 40

    def is_visible(self, request, source):
        return source.organization_id in admin_organization_ids(request.user)

    def context(self, request, source):
        return {"events": audit_events_of_target("data_source", source.pk, RECENT_EVENTS)}
