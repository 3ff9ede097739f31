"""Stored files in the admin: upload, list and delete, through the same service as the storage API.

A file that sources still use is never deleted: a single delete and the bulk action both
show the service's refusal (the API's 409 message) and leave the file in place.
"""
from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from accounts.selectors import writable_organizations
from datasources.admin.errors import SERVICE_ERRORS, service_error_details
from datasources.admin.scoping import OrganizationScopedAdmin
from datasources.models import StoredFile
from datasources.selectors.files import sources_using_file
from datasources.services.files import stored_file_create, stored_file_delete
from rivergen.errors import ConflictError


class StoredFileUploadForm(forms.ModelForm):
    organization = forms.ModelChoiceField(queryset=None)
    file = forms.FileField()

    class Meta:
        model = StoredFile
        fields = ()

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        organizations = writable_organizations(request.user)
        self.fields["organization"].queryset = organizations
        if len(organizations[:2]) == 1:
            self.initial.setdefault("organization", organizations[0].pk)

    def _post_clean(self):
        """Store the upload now, through the service (the admin's save_model does nothing)."""
        if self.errors:
            return
        try:
            self.instance = stored_file_create(
                actor=self.request.user, upload=self.cleaned_data["file"],
                organization=self.cleaned_data["organization"],
            )
        except SERVICE_ERRORS as exc:
            for field, errors in service_error_details(exc).items():
                self.add_error("file" if field in ("file", "workspace_id") else None, errors)


@admin.register(StoredFile)
class StoredFileAdmin(OrganizationScopedAdmin):
    list_display = ("filename", "name", "file_size", "organization", "used_by", "created_at")
    list_filter = (("organization", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "filename")
    readonly_fields = ("organization", "name", "filename", "size", "content_type", "uploaded_by", "created_at")
    actions = ["delete_unused_files"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        kwargs["form"] = StoredFileUploadForm
        kwargs["fields"] = None
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return RequestForm

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["organization", "file"],
                            "description": "Upload a file for a file-based data source (CSV, Excel, JSON, "
                                           "Parquet, ORC, or a zipped Delta, Iceberg or Hudi table)."})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        return False  # a stored file is replaced by uploading another, never edited

    def has_delete_permission(self, request, obj=None):
        return super().has_change_permission(request, obj)  # may write in the file's organization

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # Django's would bypass the in-use check
        return actions

    @admin.display(description="size", ordering="size")
    def file_size(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description="used by")
    def used_by(self, obj):
        return ", ".join(sources_using_file(obj, limit=3)) or "—"

    def save_model(self, request, obj, form, change):
        """Nothing to do: the upload form's validation already stored the file through the service."""

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST":
            stored = self.get_queryset(request).filter(pk=object_id).first()
            if stored is not None and self.has_delete_permission(request, stored):
                try:
                    stored_file_delete(actor=request.user, stored_file=stored)
                except ConflictError as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    return HttpResponseRedirect(reverse("admin:datasources_storedfile_change", args=[stored.pk]))
                self.message_user(request, f"The file “{stored.filename}” was deleted.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:datasources_storedfile_changelist"))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        stored_file_delete(actor=request.user, stored_file=obj)

    @admin.action(description="Delete selected files (files in use are kept)", permissions=["delete"])
    def delete_unused_files(self, request, queryset):
        deleted = 0
        for stored in queryset:
            try:
                stored_file_delete(actor=request.user, stored_file=stored)
            except ConflictError as exc:
                self.message_user(request, f"{stored.filename}: {exc}", messages.ERROR)
            else:
                deleted += 1
        if deleted:
            self.message_user(request, f"Deleted {deleted} file(s).", messages.SUCCESS)
