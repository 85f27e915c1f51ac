"""Invoices, credit notes and their lines; numbering sequences; periods billed outside Cascade.

An issued document is never modified: corrections are new documents (DESIGN.md §4).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation
from cascade.places.models import Place
from cascade.subscriptions.models import ComponentKind, Subscription


class NumberSequence(models.Model):
    """Last number used per organisation, series and year; locked row by row when issuing."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    series = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "series", "year"], name="one_sequence_per_series_year")
        ]


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")
    # Calls a period's amount without being an invoice (a rent that needs none): no e-invoice, own series.
    PAYMENT_NOTICE = "payment_notice", _("Payment notice")


class Invoice(models.Model):
    """An issued invoice or credit note. Seller and buyer are frozen as they were at issue."""

    TENANT_PATHS = ("organisation", "customer")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="issued_invoices")
    customer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="received_invoices")
    place = models.ForeignKey(Place, null=True, on_delete=models.PROTECT, related_name="invoices")
    subscription = models.ForeignKey(Subscription, null=True, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=14, choices=DocumentKind.choices, default=DocumentKind.INVOICE)
    series = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(_("number"), max_length=20)
    issue_date = models.DateField(_("issue date"), db_index=True)
    due_date = models.DateField(_("due date"))
    # Billing period, half-open [period_start, period_end).
    period_start = models.DateField()
    period_end = models.DateField()
    total_excl_vat = models.DecimalField(max_digits=14, decimal_places=2)
    total_vat = models.DecimalField(max_digits=14, decimal_places=2)
    total_incl_vat = models.DecimalField(max_digits=14, decimal_places=2)
    vat_mention = models.CharField(max_length=200, blank=True)
    # A credit note names the invoice it corrects (CGI annexe II, art. 242 nonies A).
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    seller = models.JSONField()
    buyer = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issue_date", "-number"]
        # The last issue date of a series is read before each number is given (numbering.chronological_date).
        indexes = [models.Index(fields=["organisation", "series", "issue_date"], name="invoice_series_date")]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="unique_invoice_number"),
            models.UniqueConstraint(fields=["organisation", "series", "year", "sequence"], name="unique_invoice_seq"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    TENANT_PATHS = ("invoice__organisation", "invoice__customer")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="invoice_lines")
    component = models.CharField(max_length=10, choices=ComponentKind.choices)
    label = models.CharField(max_length=300)
    # The billing period this line belongs to (half-open) and the days it covers in it.
    period_start = models.DateField()
    period_end = models.DateField()
    days = models.PositiveSmallIntegerField()
    period_days = models.PositiveSmallIntegerField()
    # The days of the period the line is for (half-open) and the version that priced them (None:
    # days credited because no longer occupied): the engine spreads the amount over these days.
    covered_start = models.DateField()
    covered_end = models.DateField()
    version_number = models.PositiveSmallIntegerField(null=True, blank=True)
    amount_excl_vat = models.DecimalField(max_digits=14, decimal_places=2)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True)

    class Meta:
        ordering = ["invoice", "position"]


class BilledOutside(models.Model):
    """A period an operator already invoiced by hand before moving to Cascade.

    Counted as billed by the engine, so it is never invoiced again.
    """

    TENANT_PATHS = ("subscription__organisation",)

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="billed_outside")
    component = models.CharField(max_length=10, choices=ComponentKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    covered_start = models.DateField()
    covered_end = models.DateField()
    amount_excl_vat = models.DecimalField(max_digits=14, decimal_places=2)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subscription", "period_start"]


class SendStatus(models.TextChoices):
    PENDING = "pending", _("to send")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    NO_ADDRESS = "no_address", _("no address")
    SKIPPED = "skipped", _("not sent automatically")


class InvoiceSend(models.Model):
    """The e-mailing of an issued document: claimed by one sender at a time, retried after a failure,
    never sent twice (sending.py)."""

    TENANT_PATHS = ("invoice__organisation",)

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="send")
    status = models.CharField(max_length=12, choices=SendStatus.choices, default=SendStatus.PENDING)
    recipients = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="invoice_send_due")]
