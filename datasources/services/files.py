"""Stored files for file-based sources: the only code that writes or removes them."""
import os

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.text import get_valid_filename

from accounts.audit_log import field_changes, record
from accounts.selectors import can_write, check_workspace_in_scope, memberships_of, write_target
from datasources.models import StoredFile
from datasources.selectors.files import sources_using_file
from rivergen.errors import ConflictError, PayloadTooLarge

# File systems limit a path component to 255 bytes (not characters): 200 CJK characters are 600.
MAX_FILENAME_BYTES = 255
MAX_EXTENSION_BYTES = 32


def clean_filename(raw: str) -> str:
    """A safe last path component: no directories, no odd characters, at most 255 UTF-8 bytes
    with the extension kept."""
    base = os.path.basename((raw or "").replace("\\", "/")).strip()
    try:
        name = get_valid_filename(base)
    except Exception:  # SuspiciousFileOperation for "", "." and ".."
        raise ValidationError({"file": ["The file needs a usable name."]}) from None
    stem, ext = os.path.splitext(name)
    if len(ext.encode()) > MAX_EXTENSION_BYTES:  # not an extension worth keeping whole
        stem, ext = name, ""
    room = MAX_FILENAME_BYTES - len(ext.encode())
    # Cut at a byte count, then drop a character the cut split in two.
    return stem.encode()[:room].decode(errors="ignore") + ext


def clean_content_type(raw: str | None) -> str:
    if raw and "\x00" in raw:
        raise ValidationError({"file": ["The part's Content-Type must not contain NUL characters."]})
    return (raw or "")[:255]


def stored_file_check(upload) -> tuple[str, str]:
    """What storing ``upload`` would record (its clean filename and content type); nothing is stored."""
    limit = settings.STORAGE_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise PayloadTooLarge(f"The file is larger than the {limit // (1024 * 1024)} MB limit.")
    return clean_filename(upload.name), clean_content_type(upload.content_type)


def stored_file_create(*, actor, upload, workspace_id=None, organization=None) -> StoredFile:
    """Store ``upload``; ``organization`` is given only by the admin, which checks it."""
    if organization is None:
        check_workspace_in_scope(actor, workspace_id)
        organization, _ = write_target(memberships_of(actor), workspace_id)
    filename, content_type = stored_file_check(upload)
    saved = None
    try:
        with transaction.atomic():
            row = StoredFile.objects.create(
                organization=organization, filename=filename, size=upload.size,
                content_type=content_type, uploaded_by=actor,
            )
            saved = default_storage.save(f"organizations/{organization.pk}/files/{row.pk}/{filename}", upload)
            row.name = saved
            row.save(update_fields=["name"])
            record("file.uploaded", organization_id=organization.pk, actor=actor, target=_target(row),
                   changes=field_changes({}, {"name": row.name, "size": row.size, "content_type": content_type}))
    except Exception:
        if saved:
            default_storage.delete(saved)
        raise
    return row


def stored_file_delete(*, actor, stored_file: StoredFile) -> None:
    # Viewers see their organization's files but may not remove them.
    if not can_write(actor, stored_file.organization_id):
        raise PermissionDenied("Your role in this organization may not delete files.")
    users = sources_using_file(stored_file, limit=5)
    if users:
        raise ConflictError(
            f"The file is used by data source(s): {', '.join(users)}. Delete or change them first."
        )
    with transaction.atomic():
        record("file.deleted", organization_id=stored_file.organization_id, actor=actor, target=_target(stored_file))
        stored_file.delete()
        transaction.on_commit(lambda: default_storage.delete(stored_file.name))


def _target(stored_file: StoredFile) -> tuple:
    return ("file", stored_file.pk, stored_file.name or stored_file.filename)
