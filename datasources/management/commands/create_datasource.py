import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from rest_framework import serializers

from datasources.api.serializers import DataSourceSerializer
from datasources.security.secret_refs import is_reference
from datasources.services.credentials import SECRET_KEYS
from datasources.services.inputs import DEFAULTS, DataSourceInputSerializer
from datasources.services.sources import data_source_create
from rivergen.commands import (
    CliCommand,
    EXPECTED_ERRORS,
    as_command_error,
    print_json,
    read_secret_stdin,
)

INPUT_FIELDS = DataSourceInputSerializer._declared_fields
# The flags follow the input serializer: a text or integer field is --its-name VALUE, a boolean is
# --its-name (or --no-its-name when it defaults to true), a list is a repeatable singular flag.
# Write-only fields are secrets: they come from --file, never from argv.
FIELD_FLAGS = {
    name: int if isinstance(field, serializers.IntegerField) else str
    for name, field in INPUT_FIELDS.items()
    if isinstance(field, (serializers.CharField, serializers.IntegerField, serializers.ChoiceField))
    and not field.write_only
}
SWITCHES = [name for name, field in INPUT_FIELDS.items() if isinstance(field, serializers.BooleanField)]
LISTS = [name for name, field in INPUT_FIELDS.items() if isinstance(field, serializers.ListField)]
OBJECTS = [name for name, field in INPUT_FIELDS.items()
           if isinstance(field, serializers.DictField) and not field.write_only]
PLAIN_CREDENTIAL_FLAGS = ("username", "warehouse", "role")


class Command(CliCommand):
    help = (
        "Create a data source as USER through the same validation as the API; prints it as JSON. "
        "Secrets come from --file, --credentials-file or --password-stdin, never from argv."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username acting (needs a write role)")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--file", help="path to a JSON body like the API's ('-' for stdin)")
        source.add_argument("--json", help="a JSON body; must not contain secrets (argv is visible in ps)")
        for field, kind in FIELD_FLAGS.items():
            parser.add_argument(f"--{_flag(field)}", dest=field, type=kind)
        for field in SWITCHES:
            if DEFAULTS.get(field):
                parser.add_argument(f"--no-{_flag(field)}", dest=field, action="store_false", default=None)
            else:
                parser.add_argument(f"--{_flag(field)}", dest=field, action="store_true", default=None)
        for field in LISTS:
            parser.add_argument(f"--{_flag(field).removesuffix('s')}", dest=field, action="append", help="repeatable")
        for field in OBJECTS:
            parser.add_argument(f"--{_flag(field)}", dest=field, help="a JSON object")
        for key in PLAIN_CREDENTIAL_FLAGS:
            parser.add_argument(f"--{key}", dest=f"credential_{key}", help=f"credentials.{key}")
        parser.add_argument("--credentials-file", help="a JSON object of credentials ('-' for stdin)")
        parser.add_argument("--password-stdin", action="store_true", help="read credentials.password from stdin")

    def handle(self, *args, **options):
        stdin = options.get("stdin")
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f'No user named "{options["user"]}".')
        body = self._body(options, stdin)
        try:
            source = data_source_create(actor=user, data=body)
        except EXPECTED_ERRORS as exc:
            raise as_command_error(exc) from None
        print_json(self, DataSourceSerializer(source).data)

    def _body(self, options, stdin):
        if options["file"]:
            body = _load_json(_read(options["file"], stdin), "--file")
        elif options["json"]:
            body = _load_json(options["json"], "--json")
            _refuse_secrets_in_argv(body)
        else:
            body = {}
        if not isinstance(body, dict):
            raise CommandError("The body must be a JSON object.")
        for field in (*FIELD_FLAGS, *SWITCHES, *LISTS):
            if options.get(field) is not None:
                body[field] = options[field]
        for field in OBJECTS:
            if options[field]:
                body[field] = _load_json(options[field], f"--{_flag(field)}")
        credentials = body.get("credentials")
        credentials = dict(credentials) if isinstance(credentials, dict) else ({} if credentials is None else credentials)
        if isinstance(credentials, dict):
            for key in PLAIN_CREDENTIAL_FLAGS:
                if options[f"credential_{key}"] is not None:
                    credentials[key] = options[f"credential_{key}"]
            if options["credentials_file"]:
                extra = _load_json(_read(options["credentials_file"], stdin), "--credentials-file")
                if not isinstance(extra, dict):
                    raise CommandError("--credentials-file must hold a JSON object.")
                credentials.update(extra)
            if options["password_stdin"]:
                credentials["password"] = read_secret_stdin(stdin)
        body["credentials"] = credentials
        return body


def _flag(field: str) -> str:
    return field.replace("_", "-")


def _read(path, stdin):
    if path == "-":
        return read_secret_stdin(stdin)
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None


def _load_json(text, what):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None


def _refuse_secrets_in_argv(body):
    credentials = body.get("credentials") if isinstance(body, dict) else None
    secrets = [k for k, v in (credentials or {}).items()
               if k in SECRET_KEYS and v and not is_reference(v)] if isinstance(credentials, dict) else []
    if isinstance(body, dict) and body.get("connection_string"):
        secrets.append("connection_string")
    if secrets:
        raise CommandError(
            f"Refusing secrets on the command line ({', '.join(secrets)}): argv is visible to every user "
            "in ps. Put them in --file, --credentials-file or --password-stdin."
        )
