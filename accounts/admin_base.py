"""The base of the admins that only show what the API and the services write (API keys, the audit log)."""
from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Nothing is added, changed or deleted here; actions declared by a subclass still run."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
