from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from datasources.selectors.sources import data_source_list
from datasources.services.bundle_text import bundle_yaml
from datasources.services.bundles import bundle_export
from rivergen.commands import EXPECTED_ERRORS, as_command_error, print_json


class Command(BaseCommand):
    help = "Print the bundle of USER's data sources (as GET /api/v1/data-sources/export): no secret value."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username reading")
        parser.add_argument("--workspace", dest="workspace_id", help="a workspace id")
        parser.add_argument("--type", action="append", default=[], help="repeatable")
        parser.add_argument("--tag", action="append", default=[], help="repeatable: every tag")
        parser.add_argument("--format", choices=("json", "yaml"), default="json")

    def handle(self, *args, **options):
        user = user_named(options["user"])
        filters = QueryDict(mutable=True)
        if options["workspace_id"] is not None:
            filters["workspace_id"] = options["workspace_id"]
        filters.setlist("type", options["type"])
        filters.setlist("tag", options["tag"])
        try:
            bundle = bundle_export(data_source_list(user=user, filters=filters))
        except EXPECTED_ERRORS as exc:
            raise as_command_error(exc) from None
        if options["format"] == "yaml":
            self.stdout.write(bundle_yaml(bundle), ending="")
        else:
            print_json(self, bundle)


def user_named(username):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f'No user named "{username}".')
    return user
