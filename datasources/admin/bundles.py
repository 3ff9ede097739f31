"""The admin's sources as code: export the selected sources as a bundle; plan a bundle, then apply it.

Both go through the bundle service, as the API and the commands do; the apply page shows the plan
(a dry run) first and applies only what the person confirmed, re-planned inside the apply.
"""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.selectors import writable_organizations
from datasources.admin.errors import SERVICE_ERRORS, flat_errors, service_error_details
from datasources.services.bundle_text import bundle_from_text, bundle_yaml
from datasources.services.bundles import bundle_apply, bundle_export, bundle_plan


@admin.action(description="Export selected data sources as a bundle (YAML)")
def export_bundle(model_admin, request, queryset):
    response = HttpResponse(bundle_yaml(bundle_export(queryset)), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="data-sources.yaml"'
    return response


class BundleForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=None)
    bundle = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"}),
                             help_text="YAML or JSON, as exported. Secrets as values or as secret references.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = writable_organizations(user)
        if len(self.fields["organization"].queryset[:2]) == 1:
            self.initial["organization"] = self.fields["organization"].queryset[0].pk


def apply_bundle_view(model_admin, request):
    """GET: the form. POST "plan": the dry run's plan. POST "apply": apply, then back to the list."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = BundleForm(request.POST or None, user=request.user)
    plan = None
    if request.method == "POST" and form.is_valid():
        arguments = {"actor": request.user, "organization": form.cleaned_data["organization"]}
        try:
            arguments["bundle"] = bundle_from_text(form.cleaned_data["bundle"])
            if "apply" in request.POST:
                done = bundle_apply(**arguments)["summary"]
                messages.success(request, "Bundle applied: " + ", ".join(f"{n} {a}" for a, n in done.items()))
                return HttpResponseRedirect(reverse("admin:datasources_datasource_changelist"))
            plan = bundle_plan(**arguments)
        except SERVICE_ERRORS as exc:
            for field, problems in flat_errors(service_error_details(exc)).items():
                form.add_error("bundle", f"{field}: {' '.join(problems)}" if field not in ("__all__", "bundle")
                               else " ".join(problems))
    context = {**model_admin.admin_site.each_context(request), "title": "Apply a bundle of data sources",
               "form": form, "plan": plan, "opts": model_admin.model._meta}
    return TemplateResponse(request, "admin/datasources/datasource/apply_bundle.html", context)
