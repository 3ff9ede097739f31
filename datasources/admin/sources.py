"""The data source admin: a type-aware form, health and schema panels, and a filtered list."""
from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from datasources.admin.bundles import apply_bundle_view, export_bundle
from datasources.admin.display import chips, compact_time, organization_and_workspace
from datasources.admin.forms import (
    DataSourceAdminForm,
    credential_field_name,
    reference_toggle_name,
    source_field_names,
)
from datasources.admin.panels import render_panels
from datasources.admin.scoping import OrganizationScopedAdmin
from datasources.admin.source_fields import fieldsets as source_fieldsets
from datasources.admin.typeinfo import SSH_CREDENTIALS, TLS_CREDENTIALS, form_layout
from datasources.admin.views import SourceViews
from datasources.models import DataSource, Status
from datasources.selectors.sources import has_tag
from datasources.services.credentials import CREDENTIAL_KEYS, SECRET_KEYS, secrets_set
from datasources.services.expiry import current_certificate
from datasources.services.sources import data_source_delete

BADGE_COLOURS = {Status.ACTIVE: "#1e7e34", Status.ERROR: "#b02a37", Status.INACTIVE: "#6c757d"}


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        tags = set()
        for row in model_admin.get_queryset(request).values_list("tags", flat=True)[:2000]:
            tags.update(t for t in row or [] if isinstance(t, str))
        return [(t, t) for t in sorted(tags)[:100]]

    def queryset(self, request, queryset):
        return queryset.filter(has_tag(self.value())) if self.value() else queryset


@admin.register(DataSource)
class DataSourceAdmin(OrganizationScopedAdmin):
    form = DataSourceAdminForm
    change_form_template = "admin/datasources/datasource/change_form.html"
    # Compact cells (datasources/admin/display.py): every column fits at 1280 px with the sidebar open.
    list_display = ("name", "type_label", "status_badge", "last_tested", "where", "tag_list")
    # RelatedOnly: the choices come from the (organization-scoped) list, never from every organization.
    list_filter = ("type", "status", ("organization", admin.RelatedOnlyFieldListFilter),
                   ("workspace", admin.RelatedOnlyFieldListFilter), TagFilter, "schema_auto_refresh")
    search_fields = ("name", "description", "host")
    list_select_related = ("organization", "workspace")
    readonly_fields = ("credentials_set", "server_certificate")
    actions = [export_bundle]
    change_list_template = "admin/datasources/datasource/change_list.html"

    class Media:
        css = {"all": ["datasources/admin/admin.css"]}
        js = ["datasources/admin/source_form.js"]

    def get_fieldsets(self, request, obj=None):
        credentials = [_credential_row(k) for k in CREDENTIAL_KEYS if k not in (*SSH_CREDENTIALS, *TLS_CREDENTIALS)]
        ssh_credentials = [_credential_row(k) for k in SSH_CREDENTIALS]
        fieldsets = source_fieldsets(credentials, ssh_credentials, [_credential_row(k) for k in TLS_CREDENTIALS])
        if obj is None:  # nothing tested yet: no server certificate to show
            fieldsets = [(name, {**opts, "fields": [f for f in opts["fields"] if f != "server_certificate"]})
                         for name, opts in fieldsets]
        else:  # only the source's type's fields; no JavaScript needed for that
            shown = source_field_names(obj.type, obj.credentials if isinstance(obj.credentials, dict) else {})
            fieldsets = [(name, {**opts, "fields": [f for f in opts["fields"] if _first(f) in shown]})
                         for name, opts in fieldsets]
            if fieldsets[2][1]["fields"]:  # a type without credentials (a CSV file) shows no Credentials section
                fieldsets[2][1]["fields"].append("credentials_set")
            fieldsets = [(name, opts) for name, opts in fieldsets if opts["fields"]]
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not change or self.has_change_permission(request, obj):
            kwargs["fields"] = None  # the form declares its own fields (not the model's)
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return RequestForm

    def get_urls(self):
        apply_page = path("apply-bundle/", self.admin_site.admin_view(lambda request: apply_bundle_view(self, request)),
                          name="datasources_datasource_apply_bundle")
        return [apply_page] + SourceViews(self).urls(self.admin_site) + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["type_layout"] = form_layout()
        context["fixed_type"] = obj.type if obj else ""
        test_url = (reverse("admin:datasources_datasource_test_values", args=[obj.pk]) if obj
                    else reverse("admin:datasources_datasource_test_unsaved"))
        context["test_connection_url"] = test_url
        if obj is not None and obj.pk:
            context["panels"] = render_panels(request, obj, can_write=self.has_change_permission(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="type", ordering="type")
    def type_label(self, obj):
        return form_layout()[obj.type]["label"] if obj.type in form_layout() else obj.type

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status)

    @admin.display(description="last test", ordering="last_tested_at")
    def last_tested(self, obj):
        return compact_time(obj.last_tested_at)

    @admin.display(description="organization", ordering="organization__name")  # its workspace below
    def where(self, obj):
        return organization_and_workspace(obj.organization, obj.workspace)

    @admin.display(description="tags")
    def tag_list(self, obj):
        return chips(obj.tags)

    @admin.display(description="Secrets set")
    def credentials_set(self, obj):
        names = secrets_set(obj)
        if names is None:
            return "unreadable with the current keys: re-enter the credentials"
        if obj.connection_string:
            names.append("connection_string")
        return format_html_join(", ", "{}", ((n,) for n in names)) or "none"

    @admin.display(description="Server certificate")
    def server_certificate(self, obj):
        """The last successful test's; within TLS_CERTIFICATE_WARNING_DAYS of expiry in the warning style."""
        certificate = current_certificate(obj) if obj and obj.pk else None
        if not certificate:
            return "none seen yet (shown after a successful test over TLS)"
        days = certificate["days_left"]
        left = "expired" if days < 0 else f"{days} days left" + (" — renew it soon" if certificate["expiring"] else "")
        return format_html(
            '<table class="{}"><tr><th>Subject</th><td>{}</td></tr><tr><th>Issuer</th><td>{}</td></tr>'
            '<tr><th>Valid until</th><td>{} <strong class="rg-cert-days">({})</strong></td></tr>'
            '<tr><th>SHA-256</th><td><code>{}</code></td></tr></table>',
            "rg-cert rg-cert-expiring" if certificate["expiring"] else "rg-cert", certificate["subject"],
            certificate["issuer"], certificate["not_after"], left, certificate["sha256"],
        )

    def save_model(self, request, obj, form, change):
        """Write through the same service as the API (the form's ``clean`` only checked)."""
        saved = form.save_through_service()
        vars(obj).update(vars(saved))  # the admin goes on with ``obj``: its pk, its log entry, its message

    def delete_model(self, request, obj):
        data_source_delete(source=obj)

    def delete_queryset(self, request, queryset):
        for source in queryset:
            data_source_delete(source=source)


def _credential_row(key):
    """A secret's field with its "is a secret reference" toggle on one row (shown and hidden together)."""
    return (credential_field_name(key), reference_toggle_name(key)) if key in SECRET_KEYS else credential_field_name(key)


def _first(row):
    return row[0] if isinstance(row, tuple) else row


def status_badge(status: str):
    colour = BADGE_COLOURS.get(status, "#6c757d")
    return format_html('<span class="rg-badge" style="background:{}">{}</span>', colour, status)
