from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.services import user_create
from rivergen.commands import (
    EXPECTED_ERRORS,
    as_command_error,
    print_json,
    read_secret_stdin,
)


class Command(BaseCommand):
    stealth_options = ("stdin",)
    help = "Create a user, optionally a member of an organization; the password comes from stdin."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--organization", type=int, help="organization id to join")
        parser.add_argument("--role", choices=Role.values, default=Role.EDITOR)
        parser.add_argument("--staff", action="store_true",
                            help="may sign in at /admin/ (sees and changes its organization's sources as its role allows)")
        parser.add_argument("--password-stdin", action="store_true", required=True,
                            help="read the password from standard input (never from argv)")

    def handle(self, *args, **options):
        password = read_secret_stdin(options.get("stdin"))
        if not password:
            raise CommandError("No password on standard input.")
        try:
            user = user_create(
                username=options["username"], password=password, email=options["email"],
                organization_id=options["organization"],
                role=options["role"] if options["organization"] is not None else None,
                staff=options["staff"],
            )
        except EXPECTED_ERRORS as exc:
            raise as_command_error(exc) from None
        print_json(self, {"id": user.pk, "username": user.username, "staff": user.is_staff})
