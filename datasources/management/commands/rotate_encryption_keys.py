from django.core.management.base import CommandError

from datasources.security.crypto import previous_keys
from datasources.services.keys import encryption_keys_rotate
from rivergen.commands import CliCommand, print_json


class Command(CliCommand):
    help = (
        "Re-encrypt every encrypted value stored under the previous keys (OLD_SECRET_KEY / "
        "OLD_CRYPTOGRAPHY_KEY in the environment) with the current SECRET_KEY / CRYPTOGRAPHY_KEY. "
        "Idempotent; prints counts as JSON. Values no key opens are reported and left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="rows read and written per transaction")
        parser.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")

    def handle(self, *args, batch_size, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not previous_keys():
            self.stderr.write(
                "OLD_SECRET_KEY / OLD_CRYPTOGRAPHY_KEY are not set (or equal the current keys): "
                "only checking that every value opens with the current keys."
            )
        report = encryption_keys_rotate(batch_size=batch_size, dry_run=dry_run)
        print_json(self, {"dry_run": dry_run, **report.as_dict()})
        if report.unreadable:
            # The values are named by model, field and row id only: never their contents.
            raise CommandError(
                f"{len(report.unreadable)} value(s) open with neither the current nor the previous keys "
                "and were left untouched; set OLD_SECRET_KEY / OLD_CRYPTOGRAPHY_KEY to the keys they "
                "were written with and run again, or re-enter those credentials."
            )
