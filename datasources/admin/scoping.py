"""The organization rule every model admin here follows."""
from django.contrib import admin

from accounts.selectors import can_write, visible_organizations, writable_organizations


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Staff who are not superusers see and change only what belongs to their organizations."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(organization__in=visible_organizations(request.user))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request) and writable_organizations(request.user).exists()

    def has_change_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return can_write(request.user, obj.organization) if obj else self.has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)
