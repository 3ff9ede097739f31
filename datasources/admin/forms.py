"""The admin's data source form: it parses the page into the API's input and lets the service decide.

No rule is written here, and nothing is written while validating. ``clean()`` hands the same dict
the API would receive to the service's check (``data_source_created_state`` /
``data_source_updated_state`` with ``every_error``: one round shows every problem) and puts its
errors on the form's fields; ``save_through_service()`` (called by ``DataSourceAdmin.save_model``)
stores an uploaded file and writes through ``data_source_create`` / ``data_source_update``.
The "Test connection" view builds the same form with ``write=False`` and uses ``payload()``.
The fields themselves derive from the input serializer (``source_fields``).
"""
from django import forms
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat

from accounts.models import Organization, Workspace
from accounts.selectors import writable_organizations
from datasources.admin.errors import (
    SERVICE_ERRORS,
    add_service_errors,
    credential_field_name,
    service_error_details,
)
from datasources.admin.source_fields import (
    ADVANCED,
    IDENTITY,
    PLAIN_FIELDS,
    derived_form_fields,
)
from datasources.admin.tls_fields import sent_tls, show_type_modes
from datasources.admin.typeinfo import (
    CONNECTION_FIELDS,
    SSH_CREDENTIALS,
    TLS_CREDENTIALS,
    credential_label,
    form_layout,
)
from datasources.connectors import TYPE_CHOICES
from datasources.models import DataSource, StoredFile
from datasources.security.secret_refs import REF_KEY, is_reference
from datasources.security.tls import CLIENT_KEY
from datasources.services.credentials import CREDENTIAL_KEYS, SECRET_KEYS
from datasources.services.files import stored_file_check, stored_file_create
from datasources.services.sources import (
    data_source_create,
    data_source_created_state,
    data_source_update,
    data_source_updated_state,
    parse_input,
)

MULTILINE_SECRETS = {"ssh_private_key", "service_account_json", "tls_client_key"}
MAX_FILE_CHOICES = 500


class SecretTextarea(forms.Textarea):
    """A textarea that, like PasswordInput(render_value=False), never renders a stored value."""

    def format_value(self, value):
        return None


class DataSourceAdminForm(forms.ModelForm):
    organization = forms.ModelChoiceField(queryset=None)
    workspace = forms.ModelChoiceField(queryset=None, required=False)
    file_path = forms.ChoiceField(required=False, label="Stored file", help_text="A file uploaded to the organization.")
    upload_file = forms.FileField(
        required=False, label="Or upload a file",
        help_text="Stored in the organization (as with POST /api/v1/storage/files) and used as the source's file.",
    )
    connection_string = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Instead of host, port and database. Write-only.",
    )
    tags = forms.CharField(required=False, help_text="Comma-separated.")

    class Meta:
        model = DataSource
        fields = ()

    def __init__(self, *args, request=None, write=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.request, self.write = request, write
        self.fields.update(derived_form_fields())
        organizations = writable_organizations(request.user) if request else Organization.objects.none()
        self.fields["organization"].queryset = organizations
        self.fields["workspace"].queryset = Workspace.objects.filter(organization__in=organizations)
        self.fields["file_path"].choices = _file_choices(organizations)
        for key in CREDENTIAL_KEYS:
            self.fields[credential_field_name(key)] = self._credential_field(key)
            if key in SECRET_KEYS:
                self.fields[reference_toggle_name(key)] = forms.BooleanField(
                    required=False, label="is a secret reference",
                    help_text="Tick when the value is <provider>:<reference> (env:…, file:…, aws-sm:…): "
                              "the secret stays where it is and is read at each connection.",
                )
        if self.instance.pk:
            self._load_instance()
            if "tls" in self.fields:
                self.initial["tls"] = show_type_modes(self.fields["tls"], form_layout()[self.instance.type],
                                                      self.instance.tls)
            if "connection_string" in self.fields:  # only types that take one
                self.fields["connection_string"].help_text += " Leave blank to keep the stored value."
        else:
            if len(organizations[:2]) == 1:
                self.initial.setdefault("organization", organizations[0].pk)
                workspaces = list(self.fields["workspace"].queryset.filter(organization=organizations[0])[:2])
                if len(workspaces) == 1:  # the organization's only workspace
                    self.initial.setdefault("workspace", workspaces[0].pk)
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
        help_text = ""
        if key in SECRET_KEYS:  # only a change page has a stored value to keep
            help_text = "Secret: write-only." + (" Leave blank to keep the stored value." if self.instance.pk else "")
        if key == CLIENT_KEY:  # kept while its certificate is; removing the certificate removes it
            help_text += " Removed with the client certificate." if self.instance.pk else " Unencrypted PEM."
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
            elif is_reference(credentials.get(key)) and credential_field_name(key) in self.fields:
                # A reference is no secret: the page says which one is stored.
                self.initial[reference_toggle_name(key)] = True
                self.fields[credential_field_name(key)].help_text = (
                    f"Now the secret reference {credentials[key][REF_KEY]}. Leave blank to keep it.")

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
            if value and data.get(reference_toggle_name(key)):
                credentials[key] = {REF_KEY: value.strip()}
            elif value:
                credentials[key] = value
            elif key not in SECRET_KEYS and key in stored:
                credentials[key] = None  # a cleared plain field removes the key
        if "tls" in self.fields:
            body["tls"] = sent_tls(data.get("tls"), form_layout().get(data.get("type")), self.instance.tls)
            certificate = (body["tls"] or {}).get("client_certificate")
            if stored.get(CLIENT_KEY) and not certificate and credential_field_name(CLIENT_KEY) in self.fields:
                credentials.setdefault(CLIENT_KEY, None)  # the certificate it belonged to was removed
        body["credentials"] = credentials
        return body

    def target_organization(self):
        return self.instance.organization if self.instance.pk else self.cleaned_data.get("organization")

    def clean(self):
        cleaned = super().clean()
        if self.write:
            self._check()
        return cleaned

    def _post_clean(self):
        """Nothing: the service builds and checks the source (``clean``), not the model form."""

    def _check(self):
        organization, body, upload = self.target_organization(), self.payload(), self.cleaned_data.get("upload_file")
        if upload:
            self._run(lambda: stored_file_check(upload))
        self._run(lambda: self._check_source(organization, body))
        if upload:  # the file is stored on save and becomes the source's file_path
            self._errors.pop("file_path", None)
        if upload and self._errors:  # browsers do not keep a chosen file
            self.add_error("upload_file", "Choose the file again: it is stored once the other problems are fixed.")

    def _check_source(self, organization, body):
        if organization is None:  # nowhere to check the rules against: the input's own checks only
            parse_input(body)
        elif self.instance.pk:
            data_source_updated_state(source=self.instance, actor=self.request.user, data=body, every_error=True)
        else:
            data_source_created_state(actor=self.request.user, data=body, organization=organization,
                                      every_error=True)

    def _run(self, check):
        try:
            check()
        except SERVICE_ERRORS as exc:
            add_service_errors(self, service_error_details(exc))

    def save_through_service(self) -> DataSource:
        """Store the uploaded file, then create or update the source; the page was checked in ``clean``."""
        body, upload, stored = self.payload(), self.cleaned_data.get("upload_file"), None
        try:
            if upload:
                stored = stored_file_create(actor=self.request.user, upload=upload,
                                            organization=self.target_organization())
                body["file_path"] = stored.name
            if self.instance.pk:
                return data_source_update(source=self.instance, actor=self.request.user, data=body)
            return data_source_create(actor=self.request.user, data=body, organization=self.target_organization())
        except BaseException:
            if stored:  # the row goes with the admin's rollback; the bytes must go too
                default_storage.delete(stored.name)
            raise


def source_field_names(type_name: str, credentials: dict) -> set:
    """The form fields a source of ``type_name`` shows (on its change page, without JavaScript too)."""
    layout = form_layout()[type_name]
    names = {"organization", "workspace", *IDENTITY, *ADVANCED}
    names.update(layout["fields"])
    if "file_path" in layout["fields"]:
        names.add("upload_file")
    keys = set(layout["credentials"]) | {k for k, v in credentials.items() if v}
    if layout["ssh"]:
        names.update(("use_ssh_tunnel", "ssh_host", "ssh_port", "ssh_username", "ssh_local_port"))
        keys.update(SSH_CREDENTIALS)
    if layout["tls_modes"]:
        names.update(("tls", "server_certificate"))
        keys.update(TLS_CREDENTIALS)
    names.update(credential_field_name(k) for k in keys if k in CREDENTIAL_KEYS)
    names.update(reference_toggle_name(k) for k in keys if k in SECRET_KEYS)
    return names


def reference_toggle_name(key: str) -> str:
    return f"{credential_field_name(key)}_is_ref"


def _file_choices(organizations):
    files = (
        StoredFile.objects.filter(organization__in=organizations, name__isnull=False)
        .select_related("organization").order_by("-id")[:MAX_FILE_CHOICES]
    )
    return [("", "---------")] + [
        (f.name, f"{f.filename} · {f.organization.name} · {filesizeformat(f.size)} (#{f.pk})") for f in files
    ]


__all__ = ["CONNECTION_FIELDS", "CREDENTIAL_KEYS", "PLAIN_FIELDS", "SECRET_KEYS", "DataSourceAdminForm",
           "credential_field_name", "reference_toggle_name", "source_field_names"]
