from django.contrib import admin

from .models import BilledOutside, Invoice, InvoiceLine


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Read-only: an issued invoice is never modified (corrections go through credit notes)."""

    list_display = ("number", "issue_date", "customer", "place", "total_excl_vat", "total_incl_vat")
    list_filter = ("kind", "place")
    search_fields = ("number", "customer__name")
    inlines = [InvoiceLineInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


admin.site.register(BilledOutside)
