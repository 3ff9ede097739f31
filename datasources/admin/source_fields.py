"""The source form's fields and fieldsets, derived from ``DataSourceInputSerializer``, the one
declaration of a source's fields.

A new input field needs no line here: it shows as its kind's form field (text, integer, choice,
boolean, JSON), labelled from its name, with its default as the initial value, in "Advanced".
``LOOKS`` only makes a field read better (``tls`` is drawn as a group of inputs, ``tls_fields``);
``OWN_FIELDS`` are the fields the form builds itself because the page asks for them differently (a
stored-file picker, comma-separated tags, write-only secrets, one input per credential key).
"""
from django import forms
from django.conf import settings
from rest_framework import serializers

from datasources.admin.tls_fields import TlsFormField
from datasources.admin.typeinfo import CONNECTION_FIELDS, SSH_FIELDS
from datasources.services.inputs import DEFAULTS, DataSourceInputSerializer

INPUT_FIELDS = DataSourceInputSerializer._declared_fields
OWN_FIELDS = ("workspace_id", "file_path", "connection_string", "credentials", "tags")
# Input fields sent to the service as the form cleaned them.
PLAIN_FIELDS = tuple(name for name in INPUT_FIELDS if name not in OWN_FIELDS or name == "file_path")
IDENTITY = ("name", "type", "description", "tags")
TLS_FIELDS = ("tls",)
ADVANCED = [name for name in INPUT_FIELDS
            if name not in (*IDENTITY, *CONNECTION_FIELDS, *SSH_FIELDS, *TLS_FIELDS, "workspace_id", "credentials")]
LOOKS = {
    "description": {"widget": lambda: forms.Textarea(attrs={"rows": 2})},
    "use_ssh_tunnel": {"label": "Use SSH tunnel"},
    "ssh_host": {"label": "SSH host"},
    "ssh_port": {"label": "SSH port", "required": False},  # hidden without a tunnel: blank means 22
    "ssh_username": {"label": "SSH username"},
    "ssh_local_port": {"label": "SSH local port", "help_text": "Blank: any free port."},
    "connection_timeout": {"help_text": "Seconds; a hard deadline for a test."},
    "query_timeout": {"help_text": "Seconds."},
    "schema_refresh_interval": {"help_text": "Seconds."},
    # The tls object as a group of inputs (mode, CA and client certificate to paste or upload).
    "tls": {"label": "Mode and certificates", "form_class": TlsFormField},
}
# Defaults the settings choose (the input serializer applies them when the value is absent).
SETTING_DEFAULTS = {"health_check_interval": lambda: settings.HEALTH_CHECK_INTERVAL_SECONDS}


def derived_form_fields() -> dict:
    """Fresh form fields for every input field not in ``OWN_FIELDS``, in the serializer's order."""
    return {name: _form_field(name, field) for name, field in INPUT_FIELDS.items() if name not in OWN_FIELDS}


def _form_field(name, field):
    looks = dict(LOOKS.get(name, {}))
    if "widget" in looks:
        looks["widget"] = looks["widget"]()
    default = DEFAULTS.get(name)
    options = {"required": field.required or default is not None, "initial": default}
    if name in SETTING_DEFAULTS:
        options["initial"] = SETTING_DEFAULTS[name]
        looks.setdefault("help_text", "Blank: the server's default.")
    form_class = looks.pop("form_class", None)
    if form_class:  # its own help: the API's description speaks of JSON keys
        return form_class(**{**options, **looks})
    if getattr(field, "json_schema", {}).get("description"):
        looks["help_text"] = f'{field.json_schema["description"]} {looks.get("help_text", "")}'.strip()
    options.update(looks)
    if isinstance(field, serializers.BooleanField):
        return forms.BooleanField(**{**options, "required": False})
    if isinstance(field, serializers.IntegerField):
        return forms.IntegerField(**options)
    if isinstance(field, serializers.ChoiceField):
        return forms.ChoiceField(choices=list(field.choices.items()), **options)
    if isinstance(field, serializers.DictField):
        return forms.JSONField(**{**options, "required": False, "initial": dict})
    if isinstance(field, serializers.CharField):
        return forms.CharField(max_length=field.max_length, **options)
    raise TypeError(f"The source form cannot show {name} ({type(field).__name__}): give it a form field.")


def fieldsets(credential_fields, ssh_credential_fields, tls_credential_fields=()) -> list:
    """The add page's fieldsets; a change page keeps the fields its source's type shows."""
    return [
        # The type first, as Superset and Metabase ask: the rest of the form follows from it.
        (None, {"fields": ["type", "organization", "workspace", *(f for f in IDENTITY if f != "type")]}),
        ("Connection", {"fields": [*CONNECTION_FIELDS, "upload_file"]}),
        ("Credentials", {"fields": list(credential_fields)}),
        ("SSH tunnel", {"fields": [*SSH_FIELDS, *ssh_credential_fields], "classes": ["rg-ssh"]}),
        ("TLS", {"fields": [*TLS_FIELDS, *tls_credential_fields, "server_certificate"], "classes": ["rg-tls"]}),
        ("Advanced", {"fields": list(ADVANCED), "classes": ["collapse"]}),
    ]
