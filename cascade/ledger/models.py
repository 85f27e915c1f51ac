"""The ledger (DESIGN.md §2: `Entry`, `Journal`): double-entry journal entries posted from documents,
the organisation's own accounts, and the supplier bills it records.

An entry is never changed once posted: a correction is another document, hence another entry.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation
from cascade.billing.models import Invoice
from cascade.payments.models import Deposit, Payment
from cascade.places.models import Place

from . import chart


class Journal(models.TextChoices):
    SALES = chart.SALES, _("Sales")
    BANK = chart.BANK_JOURNAL, _("Bank")
    PURCHASES = chart.PURCHASES, _("Purchases")
    MISC = chart.MISC, _("Miscellaneous operations")


class Account(models.Model):
    """An account of the organisation's chart: relabels one of the default French chart or adds one."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="accounts")
    number = models.CharField(_("number"), max_length=20)
    label = models.CharField(_("label"), max_length=200)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["organisation", "number"], name="unique_account_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.label}"


class SupplierBill(models.Model):
    """A bill received from a supplier (the workbook's Dépenses sheet, or entered later)."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="supplier_bills")
    supplier = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    supplier_name = models.CharField(_("supplier"), max_length=200)
    place = models.ForeignKey(Place, null=True, blank=True, on_delete=models.PROTECT, related_name="supplier_bills")
    category = models.CharField(_("category"), max_length=100)
    date = models.DateField(_("date"))
    number = models.CharField(_("bill number"), max_length=60)
    amount_excl_vat = models.DecimalField(_("amount excl. VAT"), max_digits=14, decimal_places=2)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    amount_vat = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2)
    amount_incl_vat = models.DecimalField(_("amount incl. VAT"), max_digits=14, decimal_places=2)
    grant = models.CharField(_("earmarked grant"), max_length=200, blank=True)
    receipt = models.FileField(_("receipt"), upload_to="supplier-bills/", blank=True, max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [models.UniqueConstraint(fields=["organisation", "supplier_name", "number"],
                                               name="unique_supplier_bill")]

    def __str__(self) -> str:
        return f"{self.supplier_name} {self.number}"


class Entry(models.Model):
    """A balanced journal entry, numbered without gaps per organisation, journal and year when posted."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="ledger_entries")
    journal = models.CharField(_("journal"), max_length=2, choices=Journal.choices)
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField(_("number"))
    date = models.DateField(_("date"))
    label = models.CharField(_("label"), max_length=200)
    piece_ref = models.CharField(_("supporting document"), max_length=60)
    piece_date = models.DateField()
    # What posted it, once: "invoice:12", "payment:3", "payment-return:3", "deposit-received:5", "bill:8"…
    source = models.CharField(max_length=40)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    deposit = models.ForeignKey(Deposit, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    supplier_bill = models.ForeignKey(SupplierBill, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="entries")
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["journal", "year", "number"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "source"], name="one_entry_per_source"),
            models.UniqueConstraint(fields=["organisation", "journal", "year", "number"], name="unique_entry_number"),
        ]

    def __str__(self) -> str:
        return f"{self.journal}{self.year}-{self.number}"


class EntryLine(models.Model):
    TENANT_PATHS = ("entry__organisation",)

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    account = models.CharField(_("account"), max_length=20, db_index=True)
    # The customer's or supplier's auxiliary account (FEC CompAuxNum / CompAuxLib).
    aux_number = models.CharField(max_length=20, blank=True)
    aux_label = models.CharField(max_length=200, blank=True)
    label = models.CharField(_("label"), max_length=200)
    debit = models.DecimalField(_("debit"), max_digits=14, decimal_places=2)
    credit = models.DecimalField(_("credit"), max_digits=14, decimal_places=2)
    # Analytic tags.
    place = models.CharField(_("place"), max_length=200, blank=True)
    cascade = models.CharField(_("cascade"), max_length=200, blank=True)  # until cascades exist (DESIGN.md §2)
    category = models.CharField(_("category"), max_length=100, blank=True)

    class Meta:
        ordering = ["entry", "position"]
