"""The admin's data source form: it parses the page into the API's input and lets the service decide.

No rule is written here. ``_post_clean`` hands the same dict the API would receive to
``data_source_create`` / ``data_source_update`` and puts their errors on the form's fields,
together with the form's own (one round of errors: when a field is already wrong, the service
still checks the rest inside a savepoint that is rolled back). The write therefore happens during
validation, inside the admin's own transaction; ``DataSourceAdmin.save_model`` does nothing.
The "Test connection" view builds the same form with ``write=False`` and uses ``payload()``.
"""
import copy

from django import forms
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from rest_framework import serializers

from accounts.models import Workspace
from accounts.selectors import writable_organizations
from datasources.admin.errors import (
    SERVICE_ERRORS,
    add_service_errors,
    credential_field_name,
    service_error_details,
)
from datasources.admin.typeinfo import CONNECTION_FIELDS, SSH_CREDENTIALS, credential_label, form_layout
from datasources.connectors import CONNECTORS, TYPE_CHOICES
from datasources.models import DataSource, StoredFile
from datasources.services.files import stored_file_create
from datasources.services.sources import data_source_create, data_source_update, parse_input


def _credential_keys():
    keys, secrets = {}, set()
    for connector in CONNECTORS.values():
        keys.update(dict.fromkeys(connector.accepted_credential_keys()))
        secrets.update(connector.all_secret_keys())
    return list(keys), secrets


CREDENTIAL_KEYS, SECRET_KEYS = _credential_keys()
MULTILINE_SECRETS = {"ssh_private_key", "service_account_json"}
PLAIN_FIELDS = (
    "name", "type", "description", "host", "port", "database_name", "schema_name", "file_path",
    "use_ssh_tunnel", "ssh_host", "ssh_port", "ssh_username", "ssh_local_port",
    "connection_pool_size", "connection_timeout", "query_timeout", "max_retries",
    "schema_auto_refresh", "schema_refresh_interval", "metadata",
)
MAX_FILE_CHOICES = 500
PLACEHOLDER_NAME = "name to be corrected"  # stands in for a wrong name while the rest is checked


class _Discard(Exception):
    """Raised inside the savepoint of a check-only service call, to roll it back."""


class SecretTextarea(forms.Textarea):
    """A textarea that, like PasswordInput(render_value=False), never renders a stored value."""

    def format_value(self, value):
        return None


class DataSourceAdminForm(forms.ModelForm):
    organization = forms.ModelChoiceField(queryset=None)
    workspace = forms.ModelChoiceField(queryset=None, required=False)
    name = forms.CharField(max_length=255)
    type = forms.ChoiceField(choices=TYPE_CHOICES)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    host = forms.CharField(required=False)
    port = forms.IntegerField(required=False)
    database_name = forms.CharField(required=False, label="Database name")
    schema_name = forms.CharField(required=False, label="Schema name")
    file_path = forms.ChoiceField(required=False, label="Stored file", help_text="A file uploaded to the organization.")
    upload_file = forms.FileField(
        required=False, label="Or upload a file",
        help_text="Stored in the organization (as with POST /api/v1/storage/files) and used as the source's file.",
    )
    connection_string = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Instead of host, port and database. Write-only: leave blank to keep the stored value.",
    )
    use_ssh_tunnel = forms.BooleanField(required=False, label="Use SSH tunnel")
    ssh_host = forms.CharField(required=False, label="SSH host")
    ssh_port = forms.IntegerField(required=False, label="SSH port", initial=22)
    ssh_username = forms.CharField(required=False, label="SSH username")
    ssh_local_port = forms.IntegerField(required=False, label="SSH local port", help_text="Blank: any free port.")
    connection_pool_size = forms.IntegerField(initial=5)
    connection_timeout = forms.IntegerField(initial=30, help_text="Seconds; a hard deadline for a test.")
    query_timeout = forms.IntegerField(initial=300, help_text="Seconds.")
    max_retries = forms.IntegerField(initial=3)
    schema_auto_refresh = forms.BooleanField(required=False, initial=True)
    schema_refresh_interval = forms.IntegerField(initial=3600, help_text="Seconds.")
    metadata = forms.JSONField(required=False, initial=dict)
    tags = forms.CharField(required=False, help_text="Comma-separated.")

    class Meta:
        model = DataSource
        fields = ()

    def __init__(self, *args, request=None, write=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.request, self.write = request, write
        organizations = writable_organizations(request.user) if request else DataSource.objects.none()
        self.fields["organization"].queryset = organizations
        self.fields["workspace"].queryset = Workspace.objects.filter(organization__in=organizations)
        self.fields["file_path"].choices = _file_choices(organizations)
        for key in CREDENTIAL_KEYS:
            self.fields[credential_field_name(key)] = self._credential_field(key)
        if self.instance.pk:
            self._load_instance()
        else:
            if len(organizations[:2]) == 1:
                self.initial.setdefault("organization", organizations[0].pk)
            first = TYPE_CHOICES[0][0]  # the type the page opens with; the script follows later changes
            self.initial.setdefault("type", first)
            self.initial.setdefault("port", form_layout()[first]["default_port"])

    def _credential_field(self, key):
        if key in MULTILINE_SECRETS:
            widget = SecretTextarea(attrs={"rows": 3, "autocomplete": "off"})
        elif key in SECRET_KEYS:
            widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        else:
            widget = forms.TextInput()
        help_text = "Secret: write-only. Leave blank to keep the stored value." if key in SECRET_KEYS else ""
        return forms.CharField(
            required=False, strip=False, widget=widget, label=credential_label(key), help_text=help_text
        )

    def _load_instance(self):
        source = self.instance
        for field in PLAIN_FIELDS:
            self.initial[field] = getattr(source, field)
        self.initial["organization"] = source.organization_id
        self.initial["workspace"] = source.workspace_id
        self.initial["tags"] = ", ".join(source.tags or [])
        self.fields["organization"].disabled = True
        self.fields["type"].disabled = True  # a source's type is fixed once created
        credentials = source.credentials if isinstance(source.credentials, dict) else {}
        for name in list(self.fields):  # only the source's type's fields (and any stored key) show
            if name not in source_field_names(source.type, credentials):
                del self.fields[name]
        for key in CREDENTIAL_KEYS:
            if key not in SECRET_KEYS and credential_field_name(key) in self.fields:
                self.initial[credential_field_name(key)] = credentials.get(key)

    def payload(self):
        """The cleaned page as the API's JSON body; a blank secret is left out (keeps the stored one)."""
        data = self.cleaned_data
        body = {field: data.get(field) for field in PLAIN_FIELDS if field in self.fields}
        for field, value in body.items():
            if isinstance(value, str):
                body[field] = value or None
        if "workspace" in self.fields:
            body["workspace_id"] = data["workspace"].pk if data.get("workspace") else None
        body["tags"] = [t for t in (data.get("tags") or "").split(",") if t.strip()]
        body["metadata"] = data.get("metadata") or {}
        if data.get("connection_string"):
            body["connection_string"] = data["connection_string"]
        stored = self.instance.credentials if isinstance(self.instance.credentials, dict) else {}
        credentials = {}
        for key in CREDENTIAL_KEYS:
            if credential_field_name(key) not in self.fields:
                continue
            value = data.get(credential_field_name(key))
            if value:
                credentials[key] = value
            elif key not in SECRET_KEYS and key in stored:
                credentials[key] = None  # a cleared plain field removes the key
        body["credentials"] = credentials
        return body

    def target_organization(self):
        return self.instance.organization if self.instance.pk else self.cleaned_data.get("organization")

    def _post_clean(self):
        if not self.write:
            return
        organization = self.target_organization()
        if organization is None:  # nowhere to check the rules against: the input's own checks only
            self._run(lambda: parse_input(self.payload()))
            return
        parse_failed = self._run(lambda: self._write(organization, check_only=bool(self.errors)))
        if parse_failed or self.errors:
            # The service stops at malformed input before its rules; check the rules too, with the
            # fields already in error set aside, so that one save shows every problem.
            self._run(lambda: self._write(organization, check_only=True, set_aside=set(self.errors)))
        if self.errors and self.cleaned_data.get("upload_file"):
            # Nothing is stored while the page has errors, and browsers do not keep a chosen file.
            self._errors.pop("file_path", None)
            self.add_error("upload_file", "Choose the file again: it is stored once the other problems are fixed.")

    def _run(self, work) -> bool:
        """Run a service call; its errors go on the form. True when the input itself was malformed."""
        try:
            work()
        except _Discard:
            pass
        except SERVICE_ERRORS as exc:
            add_service_errors(self, service_error_details(exc))
            return isinstance(exc, serializers.ValidationError)
        return False

    def _write(self, organization, *, check_only=False, set_aside=()):
        stored_name = None
        try:
            with transaction.atomic():
                body = self.payload()
                for field in set_aside:
                    if field in body:
                        body[field] = PLACEHOLDER_NAME if field == "name" else None
                upload = self.cleaned_data.get("upload_file")
                if upload and not check_only:
                    stored = stored_file_create(actor=self.request.user, upload=upload, organization=organization)
                    stored_name = body["file_path"] = stored.name
                if self.instance.pk:
                    written = data_source_update(
                        source=copy.copy(self.instance), actor=self.request.user, data=body
                    )
                else:
                    written = data_source_create(actor=self.request.user, data=body, organization=organization)
                if check_only:
                    raise _Discard
        except BaseException:
            if stored_name:  # the row went with the rollback; the bytes must go too
                default_storage.delete(stored_name)
            raise
        self.instance = written


def source_field_names(type_name: str, credentials: dict) -> set:
    """The form fields a source of ``type_name`` shows (on its change page, without JavaScript too)."""
    layout = form_layout()[type_name]
    names = {"organization", "workspace", "name", "type", "description", "tags", "metadata",
             "connection_pool_size", "connection_timeout", "query_timeout", "max_retries",
             "schema_auto_refresh", "schema_refresh_interval"}
    names.update(layout["fields"])
    if "file_path" in layout["fields"]:
        names.add("upload_file")
    keys = set(layout["credentials"]) | {k for k, v in credentials.items() if v}
    if layout["ssh"]:
        names.update(("use_ssh_tunnel", "ssh_host", "ssh_port", "ssh_username", "ssh_local_port"))
        keys.update(SSH_CREDENTIALS)
    names.update(credential_field_name(k) for k in keys if k in CREDENTIAL_KEYS)
    return names


def _file_choices(organizations):
    files = (
        StoredFile.objects.filter(organization__in=organizations, name__isnull=False)
        .select_related("organization").order_by("-id")[:MAX_FILE_CHOICES]
    )
    return [("", "---------")] + [
        (f.name, f"{f.filename} · {f.organization.name} · {filesizeformat(f.size)} (#{f.pk})") for f in files
    ]


__all__ = ["CONNECTION_FIELDS", "CREDENTIAL_KEYS", "PLAIN_FIELDS", "SECRET_KEYS", "DataSourceAdminForm",
           "credential_field_name", "source_field_names"]
