"""The admin's data source form: it parses the page into the API's input and lets the service decide.

No rule is written here. ``_post_clean`` hands the same dict the API would
receive to ``data_source_create`` / ``data_source_update`` and puts their
errors on the form's fields. The write therefore happens during validation,
inside the admin's own transaction; ``DataSourceAdmin.save_model`` does nothing.
"""
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import serializers

from accounts.models import Workspace
from accounts.selectors import writable_organizations
from datasources.connectors import CONNECTORS, TYPE_CHOICES
from datasources.models import DataSource
from datasources.services.sources import data_source_create, data_source_update
from rivergen.commands import error_details
from rivergen.errors import ConflictError


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


class SecretTextarea(forms.Textarea):
    """A textarea that, like PasswordInput(render_value=False), never renders a stored value."""

    def format_value(self, value):
        return None


def credential_field_name(key):
    return f"credential_{key}"


class DataSourceAdminForm(forms.ModelForm):
    organization = forms.ModelChoiceField(queryset=None)
    workspace = forms.ModelChoiceField(queryset=None, required=False)
    name = forms.CharField(max_length=255)
    type = forms.ChoiceField(choices=TYPE_CHOICES)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    host = forms.CharField(required=False)
    port = forms.IntegerField(required=False)
    database_name = forms.CharField(required=False)
    schema_name = forms.CharField(required=False)
    file_path = forms.CharField(required=False, help_text="organizations/{org}/files/{id}/{filename}")
    connection_string = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave blank to keep the stored value.",
    )
    use_ssh_tunnel = forms.BooleanField(required=False)
    ssh_host = forms.CharField(required=False)
    ssh_port = forms.IntegerField(required=False)
    ssh_username = forms.CharField(required=False)
    ssh_local_port = forms.IntegerField(required=False)
    connection_pool_size = forms.IntegerField(initial=5)
    connection_timeout = forms.IntegerField(initial=30)
    query_timeout = forms.IntegerField(initial=300)
    max_retries = forms.IntegerField(initial=3)
    schema_auto_refresh = forms.BooleanField(required=False, initial=True)
    schema_refresh_interval = forms.IntegerField(initial=3600)
    metadata = forms.JSONField(required=False, initial=dict)
    tags = forms.CharField(required=False, help_text="Comma-separated.")

    class Meta:
        model = DataSource
        fields = ()

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        organizations = writable_organizations(request.user) if request else DataSource.objects.none()
        self.fields["organization"].queryset = organizations
        self.fields["workspace"].queryset = Workspace.objects.filter(organization__in=organizations)
        for key in CREDENTIAL_KEYS:
            self.fields[credential_field_name(key)] = self._credential_field(key)
        if self.instance.pk:
            self._load_instance()

    def _credential_field(self, key):
        if key in MULTILINE_SECRETS:
            widget = SecretTextarea(attrs={"rows": 3, "autocomplete": "off"})
        elif key in SECRET_KEYS:
            widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        else:
            widget = forms.TextInput()
        help_text = "Secret: write-only. Leave blank to keep the stored value." if key in SECRET_KEYS else ""
        return forms.CharField(required=False, strip=False, widget=widget, label=key, help_text=help_text)

    def _load_instance(self):
        source = self.instance
        for field in PLAIN_FIELDS:
            self.initial[field] = getattr(source, field)
        self.initial["organization"] = source.organization_id
        self.initial["workspace"] = source.workspace_id
        self.initial["tags"] = ", ".join(source.tags or [])
        self.fields["organization"].disabled = True
        credentials = source.credentials if isinstance(source.credentials, dict) else {}
        for key in CREDENTIAL_KEYS:
            if key not in SECRET_KEYS:
                self.initial[credential_field_name(key)] = credentials.get(key)

    def payload(self):
        """The cleaned page as the API's JSON body; a blank secret is left out (keeps the stored one)."""
        data = self.cleaned_data
        body = {field: data.get(field) for field in PLAIN_FIELDS}
        for field in PLAIN_FIELDS:
            if isinstance(body[field], str):
                body[field] = body[field] or None
        body["workspace_id"] = data["workspace"].pk if data.get("workspace") else None
        body["tags"] = [t for t in (data.get("tags") or "").split(",") if t.strip()]
        body["metadata"] = data.get("metadata") or {}
        if data.get("connection_string"):
            body["connection_string"] = data["connection_string"]
        stored = self.instance.credentials if isinstance(self.instance.credentials, dict) else {}
        credentials = {}
        for key in CREDENTIAL_KEYS:
            value = data.get(credential_field_name(key))
            if value:
                credentials[key] = value
            elif key not in SECRET_KEYS and key in stored:
                credentials[key] = None  # a cleared plain field removes the key
        body["credentials"] = credentials
        return body

    def _post_clean(self):
        if self.errors:
            return
        try:
            if self.instance.pk:
                self.instance = data_source_update(
                    source=self.instance, actor=self.request.user, data=self.payload()
                )
            else:
                self.instance = data_source_create(
                    actor=self.request.user, data=self.payload(),
                    organization=self.cleaned_data["organization"],
                )
        except ConflictError as exc:
            self.add_error("name", str(exc))
        except PermissionDenied as exc:
            self.add_error(None, str(exc) or "You may not change data sources in this organization.")
        except (ValidationError, serializers.ValidationError) as exc:
            self._add_service_errors(error_details(exc))

    def _add_service_errors(self, details):
        for field, messages in details.items():
            if field == "credentials" and isinstance(messages, dict):
                for key, key_messages in messages.items():
                    self._add(credential_field_name(key), key_messages)
                continue
            self._add(field, messages)

    def _add(self, field, messages):
        target = {"workspace_id": "workspace", "non_field_errors": None}.get(field, field)
        if target is not None and target not in self.fields:
            target = None
        prefix = f"{field}: " if target is None and field != "non_field_errors" else ""
        for message in messages if isinstance(messages, list) else [messages]:
            self.add_error(target, f"{prefix}{message}")
