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


class DepositState(models.TextChoices):
    CALLED = "called", _("called")
    HELD = "held", _("held")
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
            return DepositState.HELD
        return DepositState.RETAINED if self.retained_amount > 0 else DepositState.RETURNED

    def get_state_display(self) -> str:
        return DepositState(self.state).label
