from django.contrib import admin

from cascade.accounts.admin import ReadOnlyAdmin

from .models import SignatureEvent, SignatureRequest, Signer


class SignerInline(admin.TabularInline):
    model = Signer
    extra = 0
    can_delete = False
    fields = ("order", "name", "email", "quality", "state", "signed_at", "locked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SignatureRequest)
class SignatureRequestAdmin(ReadOnlyAdmin):
    """Read-only: the ceremony's states change through its actions, recorded in the evidence log."""

    list_display = ("reference", "title", "organisation", "state", "created_at", "completed_at")
    list_filter = ("state",)
    search_fields = ("reference", "title", "signers__email")
    inlines = [SignerInline]


@admin.register(SignatureEvent)
class SignatureEventAdmin(SignatureRequestAdmin):
    list_display = ("request", "seq", "kind", "at", "ip", "hash")
    list_filter = ("kind",)
    search_fields = ("request__reference",)
    inlines = []
