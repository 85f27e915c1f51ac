"""Subscriptions (occupancies) and their versions (DESIGN.md §4)."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation
from cascade.places.models import Place, Resource


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("monthly")
    QUARTERLY = "quarterly", _("quarterly")


class Term(models.TextChoices):
    ADVANCE = "advance", _("in advance (à échoir)")
    ARREARS = "arrears", _("in arrears (à terme échu)")


class ComponentKind(models.TextChoices):
    RENT = "rent", _("Occupancy fee")
    FLUIDS = "fluids", _("Fluids provision")


COMPONENT_LABELS = {
    ComponentKind.RENT: "Redevance d'occupation",
    ComponentKind.FLUIDS: "Provision sur charges (fluides)",
}


class Subscription(models.Model):
    """An occupant holding resources of a place; its terms live in versions."""

    # Seen by the operator that manages it and by the subscriber itself.
    TENANT_PATHS = ("organisation", "subscriber")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="subscriptions")
    subscriber = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="held_subscriptions")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="subscriptions")
    reference = models.CharField(_("reference"), max_length=40)
    deposit = models.DecimalField(_("deposit"), max_digits=12, decimal_places=2, null=True, blank=True)
    billing_from = models.DateField(
        _("billed by Cascade from"), null=True, blank=True,
        help_text=_("Periods invoiced before this date were billed outside Cascade."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reference"]
        constraints = [models.UniqueConstraint(fields=["organisation", "reference"], name="unique_subscription_ref")]

    def __str__(self) -> str:
        return f"{self.reference} — {self.subscriber}"

    @property
    def current_version(self) -> "SubscriptionVersion":
        versions = getattr(self, "_prefetched_objects_cache", {}).get("versions")
        if versions is not None:
            return max(versions, key=lambda v: v.number)
        return self.versions.order_by("-number").first()


class SubscriptionVersion(models.Model):
    """The terms of a subscription from `effective_from` on; the latest version governs dates."""

    TENANT_PATHS = ("subscription__organisation", "subscription__subscriber")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    effective_from = models.DateField(_("effective from"))
    entry_date = models.DateField(_("entry date"))
    exit_date = models.DateField(_("exit date"), null=True, blank=True)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    term = models.CharField(_("term"), max_length=10, choices=Term.choices)
    resources = models.ManyToManyField(Resource, related_name="subscription_versions")
    note = models.TextField(_("remarks"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subscription", "number"]
        constraints = [models.UniqueConstraint(fields=["subscription", "number"], name="unique_version_number")]

    def __str__(self) -> str:
        return f"{self.subscription.reference} v{self.number}"

    def end_exclusive(self, place: Place) -> date:
        """Day after the last occupied day: the exit date, or the end of the place's convention."""
        last = self.exit_date or place.convention_end
        return last + timedelta(days=1)

    def monthly_total(self) -> Decimal:
        return sum((c.monthly_amount for c in self.components.all()), Decimal("0"))


class SubscriptionComponent(models.Model):
    TENANT_PATHS = ("version__subscription__organisation", "version__subscription__subscriber")

    version = models.ForeignKey(SubscriptionVersion, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=10, choices=ComponentKind.choices)
    monthly_amount = models.DecimalField(_("monthly amount excl. VAT"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["version", "kind"], name="one_component_per_kind")]

    @property
    def label(self) -> str:
        return COMPONENT_LABELS[self.kind]
