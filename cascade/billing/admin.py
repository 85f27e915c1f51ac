from django.contrib import admin

from cascade.accounts.admin import ReadOnlyAdmin

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
class InvoiceAdmin(ReadOnlyAdmin):
    """Read-only: an issued invoice is never modified (corrections go through credit notes)."""

    list_display = ("number", "issue_date", "customer", "place", "total_excl_vat", "total_incl_vat")
    list_filter = ("kind", "place")
    search_fields = ("number", "customer__name")
    inlines = [InvoiceLineInline]


admin.site.register(BilledOutside)
