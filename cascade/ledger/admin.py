from django.contrib import admin

from cascade.accounts.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Account, Entry, EntryLine, SupplierBill


class EntryLineInline(ReadOnlyInline):
    model = EntryLine


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    """Read-only: a posted entry is never modified (a correction is another document, hence another entry)."""

    list_display = ("journal", "year", "number", "date", "label", "piece_ref", "organisation")
    list_filter = ("journal", "year")
    search_fields = ("label", "piece_ref")
    inlines = [EntryLineInline]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """An organisation's own label for an account, or an account of its own."""

    list_display = ("organisation", "number", "label")


@admin.register(SupplierBill)
class SupplierBillAdmin(admin.ModelAdmin):
    list_display = ("date", "supplier_name", "number", "category", "place", "amount_incl_vat", "organisation")
    list_filter = ("category",)
    search_fields = ("supplier_name", "number")

    def has_change_permission(self, request, obj=None) -> bool:
        # A posted bill is in the ledger as it was: a correction is the supplier's credit note, another bill.
        return obj is None or not obj.entries.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)
