"""Re-encrypting stored secrets under the current keys, and its entry in the audit log."""
from django.db import transaction

from accounts.audit_log import record
from datasources.security.crypto import RotationReport, rotate_encryption


def encryption_keys_rotate(*, batch_size: int = 500, dry_run: bool = False, actor=None) -> RotationReport:
    """``rotate_encryption``, then one ``encryption_keys.rotated`` event with its counts (none for a
    dry run, which changes nothing).

    The rotation commits batch by batch (a table of millions cannot be one transaction), so the
    event has a transaction of its own right after the batches, also when a batch fails (with the
    counts up to it and ``completed: false``). Batches are idempotent: running again finishes the work.
    """
    report = RotationReport()
    try:
        rotate_encryption(batch_size=batch_size, dry_run=dry_run, report=report)
    except BaseException:
        if not dry_run:
            _record(report, actor, completed=False)
        raise
    if not dry_run:
        _record(report, actor, completed=True)
    return report


def _record(report: RotationReport, actor, *, completed: bool) -> None:
    counts = report.as_dict()
    changes = {name: {"from": None, "to": counts[name]} for name in ("checked", "changed", "unreadable")}
    changes["completed"] = {"from": None, "to": completed}
    with transaction.atomic():
        record("encryption_keys.rotated", organization_id=None, actor=actor,
               target=("encryption_keys", None, "SECRET_KEY / CRYPTOGRAPHY_KEY"), changes=changes)
