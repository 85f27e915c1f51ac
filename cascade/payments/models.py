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


# ---------------------------------------------------------------- SEPA direct debit


class MandateStatus(models.TextChoices):
    PENDING = "pending", _("waiting for signature")
    ACTIVE = "active", _("active")
    REVOKED = "revoked", _("revoked")
    LAPSED = "lapsed", _("lapsed")
    USED = "used", _("used (one-off)")
    NOT_SIGNED = "not_signed", _("not signed")


class SequenceType(models.TextChoices):
    FIRST = "FRST", _("first debit")
    RECURRENT = "RCUR", _("recurrent debit")
    FINAL = "FNAL", _("final debit")
    ONE_OFF = "OOFF", _("one-off debit")


class Mandate(models.Model):
    """A SEPA direct debit mandate (DESIGN.md §2): the debtor allows the creditor to debit its account.

    The sequence of the next debit follows from the mandate's history: OOFF for a one-off mandate,
    FRST until a debit was collected, then RCUR, FNAL when the mandate is to end after the next one."""

    TENANT_PATHS = ("creditor", "debtor")

    creditor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="mandates_received")
    debtor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="mandates_given")
    rum = models.CharField(_("mandate reference (RUM)"), max_length=35)
    debtor_name = models.CharField(_("account holder"), max_length=140)
    debtor_address = models.TextField(_("account holder's address"), blank=True)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11, blank=True)
    recurrent = models.BooleanField(_("recurrent"), default=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=MandateStatus.choices,
                              default=MandateStatus.PENDING)
    final_requested = models.BooleanField(default=False)  # the next debit is the last (FNAL)
    last_debit_on = models.DateField(_("last debit on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    signature_request = models.ForeignKey("signing.SignatureRequest", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["creditor", "rum"]
        constraints = [
            models.UniqueConstraint(fields=["creditor", "rum"], name="one_rum_per_creditor"),
            models.CheckConstraint(condition=~models.Q(status="active") | models.Q(signed_on__isnull=False),
                                   name="active_mandate_is_signed"),
        ]

    def __str__(self) -> str:
        return f"{self.rum} — {self.debtor_name}"

    @property
    def next_sequence(self) -> str:
        if not self.recurrent:
            return SequenceType.ONE_OFF
        if self.final_requested:
            # The last debit, the first one too when none came before (FRST is optional since 2016).
            return SequenceType.FINAL
        return SequenceType.FIRST if self.last_debit_on is None else SequenceType.RECURRENT


class PreNotification(models.Model):
    """The e-mail telling the debtor what will be debited, when, under which mandate: sent once per document."""

    TENANT_PATHS = ("mandate__creditor", "mandate__debtor")

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="sepa_prenotification")
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="prenotifications")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    debit_on = models.DateField(_("debit on"))
    sent_on = models.DateField(_("sent on"))
    recipients = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["debit_on", "pk"]


def _batch_path(instance: "DirectDebitBatch", filename: str) -> str:
    return f"sepa/{instance.organisation_id}/{filename}"


class DirectDebitBatch(models.Model):
    """A pain.008 file handed to the bank: the debits of one collection date."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="direct_debit_batches")
    message_id = models.CharField(_("message identifier"), max_length=35, unique=True)
    collection_date = models.DateField(_("collection date"))
    control_sum = models.DecimalField(_("control sum"), max_digits=16, decimal_places=2)
    count = models.PositiveIntegerField(_("number of debits"))
    file = models.FileField(upload_to=_batch_path, max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-collection_date", "-pk"]

    def __str__(self) -> str:
        return self.message_id


class DirectDebit(models.Model):
    """One debit of a batch; a document is never in two batches."""

    TENANT_PATHS = ("batch__organisation", "mandate__debtor")

    batch = models.ForeignKey(DirectDebitBatch, on_delete=models.PROTECT, related_name="debits")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="direct_debit")
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="debits")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    end_to_end_id = models.CharField(max_length=35)
    sequence_type = models.CharField(max_length=4, choices=SequenceType.choices)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="direct_debit")

    class Meta:
        ordering = ["batch", "pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="direct_debit_is_positive")]
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
    # The SEPA batch whose total this credit is (the bank books a batch in one, BtchBookg): its debits were
    # recorded as payments when it was sent.
    direct_debit_batch = models.ForeignKey(DirectDebitBatch, null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="statement_lines")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["booked_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="statement_line_once"),
            models.UniqueConstraint(fields=["direct_debit_batch"], name="batch_credited_once"),
            # A payment is matched by one credit line at most, and returned by one debit line at most.
            models.UniqueConstraint(fields=["payment"], condition=models.Q(amount__gt=0),
                                    name="payment_matched_once"),
            models.UniqueConstraint(fields=["payment"], condition=models.Q(amount__lt=0),
                                    name="payment_returned_once"),
        ]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.amount} {self.counterparty_name}"


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


class DepositState(models.TextChoices):
    CALLED = "called", _("called")
    HELD = "held", _("held")
    PARTLY_RETURNED = "partly_returned", _("partly returned")
    RETURNED = "returned", _("returned")
    RETAINED = "retained", _("retained")


class Deposit(models.Model):
    """A subscription's deposit (dépôt de garantie): called at entry, held while it is owed back to the
    occupant, then returned, or retained in part or whole with a reason, at exit."""

    TENANT_PATHS = ("organisation", "subscription__subscriber")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="deposits")
    subscription = models.OneToOneField("subscriptions.Subscription", on_delete=models.PROTECT,
                                        related_name="deposit_record")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    called_on = models.DateField(_("called on"))
    received_on = models.DateField(_("received on"), null=True, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    returned_amount = models.DecimalField(_("amount returned"), max_digits=12, decimal_places=2, default=0)
    retained_on = models.DateField(_("retained on"), null=True, blank=True)
    retained_amount = models.DecimalField(_("amount retained"), max_digits=12, decimal_places=2, default=0)
    retained_reason = models.TextField(_("reason for retaining"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-called_on", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="deposit_is_positive")]

    def __str__(self) -> str:
        return f"{self.amount} € — {self.subscription_id}"

    @property
    def held(self):
        """What is still owed back to the occupant (nothing before it is received)."""
        if self.received_on is None:
            return 0
        return self.amount - self.returned_amount - self.retained_amount

    @property
    def state(self) -> str:
        if self.received_on is None:
            return DepositState.CALLED
        if self.held > 0:
            return DepositState.PARTLY_RETURNED if self.returned_amount or self.retained_amount else DepositState.HELD
        return DepositState.RETAINED if self.retained_amount > 0 else DepositState.RETURNED

    def get_state_display(self) -> str:
        return DepositState(self.state).label


class DepositMovement(models.Model):
    """A part of a deposit given back (returned) or kept (retained, with its reason), on a day: several may
    follow one another until nothing is held. The Deposit keeps their totals and the last day of each kind."""

    TENANT_PATHS = ("deposit__organisation", "deposit__subscription__subscriber")

    RETURNED, RETAINED = "returned", "retained"
    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=10, choices=[(RETURNED, _("returned")), (RETAINED, _("retained"))])
    day = models.DateField(_("day"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.TextField(_("reason for retaining"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="deposit_movement_is_positive")]
