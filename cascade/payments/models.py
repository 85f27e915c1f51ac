"""Money received and the documents it settles (DESIGN.md §2: `Payment`, `Allocation`).

A payment is never changed once recorded; what it did not settle is a credit on the payer's account.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation
from cascade.billing.models import Invoice


class Means(models.TextChoices):
    TRANSFER = "transfer", _("transfer")
    DIRECT_DEBIT = "direct_debit", _("direct debit")
    CARD = "card", _("card")
    CASH = "cash", _("cash")
    CHEQUE = "cheque", _("cheque")


class Payment(models.Model):
    TENANT_PATHS = ("organisation", "payer")

    # The organisation that receives the money (the seller of the documents it settles).
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="payments_received")
    payer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="payments_made")
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    means = models.CharField(_("means"), max_length=12, choices=Means.choices)
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    # Where it was recorded from: "manual", "import" (payments received before Cascade)…
    source = models.CharField(max_length=20, default="manual")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # A direct debit the payer's bank returned or rejected: the money came back, the documents it
    # settled are open again (actions.reverse_payment). The payment itself stays, as history.
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    return_reason = models.CharField(_("return reason"), max_length=140, blank=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_is_positive")]

    def __str__(self) -> str:
        return f"{self.amount} € — {self.payer} — {self.received_on}"


class Allocation(models.Model):
    """The part of a payment that settles one document."""

    TENANT_PATHS = ("payment__organisation", "payment__payer")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_is_positive")]


class BankStatement(models.Model):
    """A statement of the organisation's bank account, imported from a CAMT.053 or OFX file."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="bank_statements")
    account_iban = models.CharField("IBAN", max_length=34)
    format = models.CharField(max_length=10)
    # The bank's identity of the statement (CAMT Stmt/Id; for OFX, made from its period and movements).
    statement_id = models.CharField(_("statement"), max_length=140)
    sequence = models.CharField(_("sequence"), max_length=35, blank=True)
    from_date = models.DateField(null=True, blank=True)
    to_date = models.DateField(null=True, blank=True)
    opening_balance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    closing_balance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-to_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "statement_id"], name="statement_once"),
            models.UniqueConstraint(fields=["organisation", "file_sha256"], name="statement_file_once"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} ({self.account_iban})"


class LineStatus(models.TextChoices):
    MATCHED = "matched", _("matched")
    PROPOSED = "proposed", _("to confirm")
    UNMATCHED = "unmatched", _("unmatched")
    IGNORED = "ignored", _("ignored")
    RETURNED = "returned", _("direct debit returned")


class StatementLine(models.Model):
    """A movement of a statement and what it became: a payment, a returned direct debit, or nothing."""

    TENANT_PATHS = ("statement__organisation",)

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    # The bank's identity of the movement on the account: the same movement is never imported twice,
    # even from two statements that overlap.
    key = models.CharField(max_length=140)
    position = models.CharField(max_length=80, blank=True)
    booked_on = models.DateField(_("booked on"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    counterparty_name = models.CharField(_("counterparty"), max_length=140, blank=True)
    counterparty_iban = models.CharField(max_length=34, blank=True)
    remittance = models.TextField(_("remittance information"), blank=True)
    end_to_end_id = models.CharField(max_length=35, blank=True)
    bank_reference = models.CharField(max_length=140, blank=True)
    bank_code = models.CharField(max_length=40, blank=True)
    return_reason = models.CharField(max_length=140, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=LineStatus.choices)
    # How it was matched: "number", "iban", "name", "direct_debit", "return", "operator".
    rule = models.CharField(max_length=20, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="statement_lines")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["booked_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="statement_line_once"),
            # A payment is matched by one credit line at most, and returned by one debit line at most.
            models.UniqueConstraint(fields=["payment"], condition=models.Q(amount__gt=0),
                                    name="payment_matched_once"),
            models.UniqueConstraint(fields=["payment"], condition=models.Q(amount__lt=0),
                                    name="payment_returned_once"),
        ]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.amount} {self.counterparty_name}"
