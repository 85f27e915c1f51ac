from django.contrib import admin

from .models import Contract, DocumentTemplate, DocumentTemplateVersion


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """Read-only: a contract freezes what it says; a change is an amendment."""

    list_display = ("reference", "title", "subscription", "status", "created_at", "signed_at")
    list_filter = ("status", "kind")
    search_fields = ("reference", "subscription__subscriber__name")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


admin.site.register(DocumentTemplate)
admin.site.register(DocumentTemplateVersion)
