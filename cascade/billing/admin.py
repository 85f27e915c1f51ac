from django.contrib import admin

from cascade.accounts.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import BilledOutside, Invoice, InvoiceLine


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Read-only: an issued invoice is never modified (corrections go through credit notes)."""

    list_display = ("number", "issue_date", "customer", "place", "total_excl_vat", "total_incl_vat")
    list_filter = ("kind", "place")
    search_fields = ("number", "customer__name")
    inlines = [InvoiceLineInline]


admin.site.register(BilledOutside)
