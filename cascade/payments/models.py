"""Money received and the documents it settles (DESIGN.md §2: `Payment`, `Allocation`); the dunning plan,
the reminders sent on overdue documents and the disputes that stop them (`Reminder`).

A payment is never changed once recorded; what it did not settle is a credit on the payer's account.
"""

from decimal import Decimal

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


class StepKind(models.TextChoices):
    FRIENDLY = "friendly", _("friendly e-mail")
    FORMAL = "formal", _("formal e-mail")
    # The formal notice (mise en demeure): a PDF letter with the late penalties and the recovery fee.
    LETTER = "letter", _("formal notice letter (PDF)")


class DunningPlan(models.Model):
    """How an organisation chases what is owed to it: its steps and the late-penalty rate it invoices."""

    TENANT_PATHS = ("organisation",)

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="dunning_plan")
    enabled = models.BooleanField(_("send reminders"), default=True)
    # The rate printed on invoices: the ECB main refinancing rate plus 10 points (L441-10), to update each
    # semester (the ECB rate in force on 1 January or 1 July).
    late_penalty_rate = models.DecimalField(_("late penalty rate (% a year)"), max_digits=5, decimal_places=2,
                                            default=Decimal("12.15"))

    def __str__(self) -> str:
        return f"{self.organisation}"


class DunningStep(models.Model):
    TENANT_PATHS = ("plan__organisation",)

    plan = models.ForeignKey(DunningPlan, on_delete=models.CASCADE, related_name="steps")
    days = models.PositiveSmallIntegerField(_("days after the due date"))
    kind = models.CharField(_("kind"), max_length=10, choices=StepKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["plan", "days"]
        constraints = [models.UniqueConstraint(fields=["plan", "days"], name="one_step_per_day")]

    def __str__(self) -> str:
        return f"J+{self.days} {self.get_kind_display()}"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("to send")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    NO_ADDRESS = "no_address", _("no address")
    CANCELLED = "cancelled", _("not sent: paid or disputed meanwhile")


class Reminder(models.Model):
    """One step of the plan for one document: what it claimed and whether it went (payments.reminders)."""

    TENANT_PATHS = ("invoice__organisation", "invoice__customer")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders")
    step = models.ForeignKey(DunningStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The step as it was: a step edited or removed later does not change the history.
    days = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=StepKind.choices)
    day = models.DateField()
    days_late = models.PositiveIntegerField()
    outstanding = models.DecimalField(max_digits=14, decimal_places=2)
    late_penalty_rate = models.DecimalField(max_digits=5, decimal_places=2)
    penalties = models.DecimalField(max_digits=14, decimal_places=2)
    recovery_fee = models.DecimalField(max_digits=14, decimal_places=2)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    recipients = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice", "days"]
        constraints = [models.UniqueConstraint(fields=["invoice", "days"], name="one_reminder_per_step")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="reminder_due")]

    @property
    def amount_claimed(self) -> Decimal:
        return self.outstanding + self.penalties + self.recovery_fee


class Dispute(models.Model):
    """A customer contests a document: no reminder goes while the dispute is open."""

    TENANT_PATHS = ("invoice__organisation", "invoice__customer")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="disputes")
    reason = models.TextField(_("reason"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["invoice"], condition=models.Q(closed_at__isnull=True),
                                               name="one_open_dispute")]
