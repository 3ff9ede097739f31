"""Reads of stored files: the user's organizations' files, and the sources that read one."""
from django.db.models import QuerySet

from accounts.selectors import organization_ids_for
from datasources.models import DataSource, StoredFile


def stored_files_visible_to(user) -> QuerySet:
    return StoredFile.objects.filter(organization_id__in=organization_ids_for(user))


def sources_using_file(stored_file: StoredFile, *, limit: int) -> list[str]:
    """Names of up to ``limit`` sources of the file's organization that read it."""
    return list(
        DataSource.objects.filter(organization_id=stored_file.organization_id, file_path=stored_file.name)
        .values_list("name", flat=True)[:limit]
    )
