"""The source admin's own views: test connection (unsaved values or the saved source), discover, panels.

Each is wrapped by ``admin_site.admin_view`` (staff login, CSRF on POST) and checks the
organization like the change page does: a source the user cannot see is a 404, one whose
organization they may not write to a 403.
"""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from accounts.selectors import can_write
from datasources.admin.errors import SERVICE_ERRORS, flat_errors, service_error_details
from datasources.admin.panels import PANELS
from datasources.services.connections import (
    data_source_test_connection,
    edited_source_test_connection,
    unsaved_source_test_connection,
)
from datasources.services.discovery import discovery_queue
from rivergen.errors import TooBusy


class SourceViews:
    """Views bound to a ``DataSourceAdmin`` (for its queryset, form and permissions)."""

    def __init__(self, model_admin):
        self.model_admin = model_admin

    def source(self, request, object_id, *, write=False):
        source = self.model_admin.get_queryset(request).filter(pk=object_id).first()
        if source is None:
            raise Http404("No such data source.")
        if write and not can_write(request.user, source.organization):
            raise PermissionDenied
        return source

    def test_form_values(self, request, object_id=None):
        """The form's current values, tested without saving anything; the result as JSON."""
        if request.method != "POST":
            return JsonResponse({"status": "invalid", "errors": {"__all__": ["POST the form."]}}, status=405)
        source = self.source(request, object_id, write=True) if object_id else None
        if source is None and not self.model_admin.has_add_permission(request):
            raise PermissionDenied
        form_class = self.model_admin.get_form(request, source, change=source is not None)
        form = form_class(request.POST, request.FILES, instance=source, write=False)
        form.fields["name"].required = False  # a test needs no name yet
        if not form.is_valid():
            return _invalid(form.errors)
        try:
            if source is None:
                result = unsaved_source_test_connection(
                    actor=request.user, data=form.payload(), organization=form.target_organization()
                )
            else:
                result = edited_source_test_connection(source=source, actor=request.user, data=form.payload())
        except SERVICE_ERRORS as exc:
            return _invalid(flat_errors(service_error_details(exc)))
        except TooBusy as exc:
            return JsonResponse({"status": "invalid", "errors": {"__all__": [str(exc)]}}, status=429,
                                headers={"Retry-After": str(exc.retry_after)})
        return JsonResponse({**result.as_dict(), "tested_at": result.tested_at.isoformat()})

    def test_saved(self, request, object_id):
        """Test the saved source and record the outcome on its health fields (the panel's button)."""
        source = self.source(request, object_id, write=True)
        try:
            result = data_source_test_connection(source=source, actor=request.user)
        except TooBusy as exc:
            messages.error(request, str(exc))
            return self._back(source)
        checklist = steps_html(result)
        if result.succeeded:
            messages.success(request, format_html("Connection succeeded in {} ms.{}", result.latency_ms, checklist))
        else:
            messages.error(request, format_html("Connection failed: {}: {}{}", result.error_code, result.message,
                                                checklist))
        return self._back(source)

    def discover(self, request, object_id):
        source = self.source(request, object_id, write=True)
        with transaction.atomic():
            discovery_queue(source=source, actor=request.user)
        messages.success(request, "Schema discovery queued.")
        return self._back(source, "#panel-discovery")

    def panel(self, request, object_id, key):
        source = self.source(request, object_id)
        panel = PANELS.get(key)
        if panel is None or not panel.is_visible(request, source):
            raise Http404("No such panel.")
        return HttpResponse(panel.render(request, source, can_write=can_write(request.user, source.organization)))

    def urls(self, site):
        from django.urls import path

        def wrap(view, post=False):
            view = require_POST(view) if post else view
            return site.admin_view(view)

        return [
            path("test-connection/", wrap(self.test_form_values), name="datasources_datasource_test_unsaved"),
            path("<int:object_id>/test-connection/", wrap(self.test_form_values),
                 name="datasources_datasource_test_values"),
            path("<int:object_id>/test-saved/", wrap(self.test_saved, post=True),
                 name="datasources_datasource_test_saved"),
            path("<int:object_id>/discover/", wrap(self.discover, post=True), name="datasources_datasource_discover"),
            path("<int:object_id>/panels/<slug:key>/", wrap(self.panel), name="datasources_datasource_panel"),
        ]

    def _back(self, source, anchor=""):
        return HttpResponseRedirect(reverse("admin:datasources_datasource_change", args=[source.pk]) + anchor)


def _invalid(errors) -> JsonResponse:
    return JsonResponse({"status": "invalid", "errors": {k: [str(m) for m in v] for k, v in errors.items()}},
                        status=400)


STEP_MARKS = {"passed": "✓", "failed": "✗", "skipped": "–"}


def steps_html(result):
    """The test's steps as a checklist (a failed step with its message where it is not the result's
    own, shown above), then the TLS summary: the same shape as the script draws for the button."""
    items = format_html_join("", '<li class="rg-step rg-step-{}">{} {} <span class="rg-muted">{}</span>{}</li>', (
        (step["status"], STEP_MARKS[step["status"]], step["name"],
         "skipped" if step["status"] == "skipped" else f'{step["duration_ms"]} ms',
         format_html(": {}", step["message"]) if step["status"] == "failed" and step["message"]
         and step["message"] != result.message else "")
        for step in result.steps))
    return format_html('<ul class="rg-steps">{}</ul>{}', items, tls_summary(result.tls)) if result.steps else ""


def tls_summary(tls):
    if not tls:
        return ""
    if not tls["encrypted"]:
        return format_html('<div class="rg-tls-summary">{}</div>', "TLS: not encrypted")
    certificate = tls["server_certificate"]
    return format_html(
        '<div class="rg-tls-summary">TLS: {}, encrypted, {}{}</div>', tls["protocol"] or "",
        "verified" if tls["verified"] else "not verified",
        format_html("; server certificate {}, issued by {}, {} days left", certificate["subject"],
                    certificate["issuer"], certificate["days_left"]) if certificate else "")
