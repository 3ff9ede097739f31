from django.core.management.base import BaseCommand

from accounts.services import organization_create
from rivergen.commands import EXPECTED_ERRORS, as_command_error, print_json


class Command(BaseCommand):
    help = "Create an organization (and its workspaces); prints it as JSON."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--workspace", action="append", default=[], help="a workspace name; repeatable")

    def handle(self, *args, **options):
        try:
            organization = organization_create(name=options["name"], workspaces=options["workspace"])
        except EXPECTED_ERRORS as exc:
            raise as_command_error(exc) from None
        print_json(self, {
            "id": organization.pk,
            "name": organization.name,
            "workspaces": [{"id": w.pk, "name": w.name} for w in organization.workspaces.all()],
        })
