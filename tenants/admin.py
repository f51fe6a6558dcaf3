"""Admin site: tenants, partners, memberships and keys. A key's secret is never stored, and its
hash is never shown either."""

from django.contrib import admin

from tenants.models import ApiKey, AuditEvent, Membership, Partner, Tenant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "tenant", "is_active", "created_at"]
    list_filter = ["kind", "is_active", "tenant"]
    search_fields = ["name", "tenant__slug"]
    readonly_fields = ["group"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__username", "tenant__slug"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created through the API (the secret is shown there, once); here they are read."""

    list_display = ["name", "prefix", "tenant", "partner", "user", "status", "expires_at", "last_used_at"]
    list_filter = ["tenant"]
    search_fields = ["name", "prefix"]
    fields = ["tenant", "partner", "user", "name", "prefix", "expires_at", "revoked_at", "last_used_at", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "actor", "action", "target_type", "target_id"]
    list_filter = ["tenant", "action"]
    readonly_fields = ["tenant", "actor", "action", "target_type", "target_id", "data", "created_at"]

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
