from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from datasources.management.commands.datasources_export import user_named
from datasources.services.bundle_text import bundle_from_text
from datasources.services.bundles import bundle_apply, bundle_plan
from rivergen.commands import EXPECTED_ERRORS, as_command_error, print_json, read_secret_stdin


class Command(BaseCommand):
    help = (
        "Plan (--dry-run) or apply a bundle FILE (YAML or JSON; '-' for stdin) as USER, as "
        "POST /api/v1/data-sources/apply does; prints the plan as JSON."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="username acting (needs a write role)")
        parser.add_argument("--dry-run", action="store_true", help="plan only: write nothing")
        parser.add_argument("--prune", action="store_true", help="delete the workspace's sources not listed")
        parser.add_argument("--workspace", dest="workspace_id", type=int, help="the workspace to prune")

    def handle(self, *args, **options):
        user = user_named(options["user"])
        try:
            text = read_secret_stdin(options.get("stdin")) if options["file"] == "-" else Path(options["file"]).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {getattr(exc, 'strerror', None) or exc}.") from None
        run = bundle_plan if options["dry_run"] else bundle_apply
        try:
            plan = run(actor=user, bundle=bundle_from_text(text), workspace_id=options["workspace_id"],
                       prune=options["prune"])
        except EXPECTED_ERRORS as exc:
            raise as_command_error(exc) from None
        print_json(self, plan)
