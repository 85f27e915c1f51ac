from django.contrib import admin

from cascade.accounts.admin import ReadOnlyAdmin

from .models import Contract, DocumentTemplate, DocumentTemplateVersion


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    """Read-only: a contract freezes what it says; a change is an amendment."""

    list_display = ("reference", "title", "subscription", "status", "created_at", "signed_at")
    list_filter = ("status", "kind")
    search_fields = ("reference", "subscription__subscriber__name")


admin.site.register(DocumentTemplate)
admin.site.register(DocumentTemplateVersion)
