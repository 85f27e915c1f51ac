"""Subscription templates, subscriptions (occupancies) and their versions (DESIGN.md §4), and
the supporting documents a template requires.

A version is in force once its contract is signed (and, for the first one, once every required
document is valid): billing and vacancy read only versions in force.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation
from cascade.billing.periods import MAX_DAYS_BEFORE
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


class ContractKind(models.TextChoices):
    TEMPORARY = "convention_temporaire", _("Temporary occupancy agreement")
    PRECARIOUS = "convention_precaire", _("Precarious occupancy agreement (art. L145-5-1)")
    MEMBERSHIP = "adhesion", _("Membership agreement")


class RequiredDocument(models.Model):
    """A kind of supporting document an operator asks of its occupants (insurance, statutes, Kbis…)."""

    TENANT_PATHS = ("organisation",)

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        JPEG = "jpeg", "JPEG"
        PNG = "png", "PNG"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="required_documents")
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True)
    formats = models.JSONField(_("accepted formats"), default=list)
    max_size_mb = models.PositiveSmallIntegerField(_("maximum size (MB)"), default=10)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="unique_required_document")]

    def __str__(self) -> str:
        return self.name


class SubscriptionTemplate(models.Model):
    """What subscriptions of one kind share: recurrence, billing term, documents, contract kind.

    Changing it proposes an amendment to every subscription that uses it (contracts.actions)."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="subscription_templates")
    name = models.CharField(_("name"), max_length=200)
    contract_kind = models.CharField(_("contract"), max_length=30, choices=ContractKind.choices,
                                     default=ContractKind.TEMPORARY)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices,
                                 default=Frequency.MONTHLY)
    term = models.CharField(_("term"), max_length=10, choices=Term.choices, default=Term.ADVANCE)
    anniversary = models.BooleanField(
        _("anniversary periods"), default=False,
        help_text=_("Periods run from each subscription's entry date (a month from the 31st: 31 Jan, 28 Feb, 31 Mar…) "
                    "instead of calendar months and quarters."))
    invoice_days_before = models.PositiveSmallIntegerField(
        _("invoice days before the period"), default=0, validators=[MaxValueValidator(MAX_DAYS_BEFORE)],
        help_text=_("In advance: invoices are dated this many days before their period starts."))
    payment_notice = models.BooleanField(
        _("payment notices instead of invoices"), default=False,
        help_text=_("Each period is called by a payment notice (avis d'échéance) e-mailed to the occupant, not by an "
                    "invoice: for a rent that needs no invoice (bare premises let to a person, without VAT). A notice "
                    "is numbered in its own series and carries no e-invoice."))
    fluids_per_m2 = models.DecimalField(
        _("fluids provision per m² per month"), max_digits=8, decimal_places=2, null=True, blank=True,
        help_text=_("When set, the fluids provision of each subscription is its surface times this rate."))
    required_documents = models.ManyToManyField(RequiredDocument, blank=True, related_name="templates",
                                                verbose_name=_("required documents"))
    circumstances = models.TextField(
        _("circumstances justifying precariousness"), blank=True,
        help_text=_("Precarious agreements only (art. L145-5-1 Code de commerce)."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="unique_subscription_template")]

    def __str__(self) -> str:
        return self.name


COMPONENT_LABELS = {
    ComponentKind.RENT: "Redevance d'occupation",
    ComponentKind.FLUIDS: "Provision sur charges (fluides)",
}


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", _("pending")  # waiting for its signature or its documents
    ACTIVE = "active", _("in force")
    CANCELLED = "cancelled", _("cancelled")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    TO_SIGN = "to_sign", _("to sign")
    SIGNED = "signed", _("signed, documents pending")
    IN_FORCE = "in_force", _("in force")
    REFUSED = "refused", _("refused")
    EXPIRED = "expired", _("expired")
    CANCELLED = "cancelled", _("cancelled")


OPEN_VERSION_STATUSES = (VersionStatus.DRAFT, VersionStatus.TO_SIGN, VersionStatus.SIGNED)
# Versions that hold their resources: in force, or on their way to it.
HOLDING_STATUSES = (VersionStatus.IN_FORCE, *OPEN_VERSION_STATUSES)


class Subscription(models.Model):
    """An occupant holding resources of a place; its terms live in versions."""

    # Seen by the operator that manages it and by the subscriber itself.
    TENANT_PATHS = ("organisation", "subscriber")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="subscriptions")
    subscriber = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="held_subscriptions")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="subscriptions")
    template = models.ForeignKey(SubscriptionTemplate, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="subscriptions", verbose_name=_("subscription template"))
    reference = models.CharField(_("reference"), max_length=40)
    status = models.CharField(_("status"), max_length=10, choices=SubscriptionStatus.choices,
                              default=SubscriptionStatus.PENDING)
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

    def _versions(self) -> list["SubscriptionVersion"]:
        # `version_list`: the versions as a plain list, when a billing run loaded them (engine.subscriptions_to_bill).
        versions = getattr(self, "version_list", None)
        if versions is None:
            versions = getattr(self, "_prefetched_objects_cache", {}).get("versions")
        return list(versions) if versions is not None else list(self.versions.all())

    def version_items(self) -> list["SubscriptionVersion"]:
        """Every version, prefetched or read."""
        return self._versions()

    @property
    def versions_in_force(self) -> list["SubscriptionVersion"]:
        return sorted((v for v in self._versions() if v.status == VersionStatus.IN_FORCE), key=lambda v: v.number)

    @property
    def current_version(self) -> "SubscriptionVersion | None":
        """The latest version in force: it governs the dates of the occupancy."""
        in_force = self.versions_in_force
        return in_force[-1] if in_force else None

    @property
    def latest_version(self) -> "SubscriptionVersion | None":
        """The latest version, in force or not (a draft, an amendment waiting for signature)."""
        versions = self._versions()
        return max(versions, key=lambda v: v.number) if versions else None

    @property
    def open_version(self) -> "SubscriptionVersion | None":
        """The version being prepared or signed, if any: one at a time."""
        return next((v for v in sorted(self._versions(), key=lambda v: -v.number)
                     if v.status in OPEN_VERSION_STATUSES), None)


class SubscriptionVersion(models.Model):
    """The terms of a subscription from `effective_from` on; the latest version governs dates."""

    TENANT_PATHS = ("subscription__organisation", "subscription__subscriber")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(_("status"), max_length=10, choices=VersionStatus.choices,
                              default=VersionStatus.DRAFT)
    effective_from = models.DateField(_("effective from"))
    entry_date = models.DateField(_("entry date"))
    exit_date = models.DateField(_("exit date"), null=True, blank=True)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    term = models.CharField(_("term"), max_length=10, choices=Term.choices)
    # Anniversary periods run from this day (None: calendar months and quarters).
    anchor = models.DateField(_("periods from"), null=True, blank=True)
    invoice_days_before = models.PositiveSmallIntegerField(default=0)
    payment_notice = models.BooleanField(default=False)
    resources = models.ManyToManyField(Resource, related_name="subscription_versions")
    note = models.TextField(_("remarks"), blank=True)
    circumstances = models.TextField(_("circumstances justifying precariousness"), blank=True)
    in_force_at = models.DateTimeField(null=True, blank=True)
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
        return sum((c.monthly_amount for c in self.component_items()), Decimal("0"))

    # A billing run loads components and spaces of 10 000 versions as plain lists (`to_attr`): a prefetched
    # manager would keep a queryset per version and build another at each `.all()`.
    def component_items(self) -> list["SubscriptionComponent"]:
        found = getattr(self, "component_list", None)
        return found if found is not None else list(self.components.all())

    def resource_items(self) -> list[Resource]:
        found = getattr(self, "resource_list", None)
        return found if found is not None else list(self.resources.all())


class SubscriptionComponent(models.Model):
    TENANT_PATHS = ("version__subscription__organisation", "version__subscription__subscriber")

    version = models.ForeignKey(SubscriptionVersion, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=10, choices=ComponentKind.choices)
    monthly_amount = models.DecimalField(_("monthly amount excl. VAT"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["-kind"]  # the fee (rent) before the provision (fluids)
        constraints = [models.UniqueConstraint(fields=["version", "kind"], name="one_component_per_kind")]

    @property
    def label(self) -> str:
        return COMPONENT_LABELS[self.kind]


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("to review")
    VALID = "valid", _("valid")
    REJECTED = "rejected", _("rejected")


def _document_path(instance: "SupportingDocument", filename: str) -> str:
    return f"documents/{instance.subscription.organisation_id}/{instance.subscription_id}/{instance.sha256}"


class SupportingDocument(models.Model):
    """A file the subscriber sent for a required document; a manager validates or rejects it."""

    TENANT_PATHS = ("subscription__organisation", "subscription__subscriber")

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="documents")
    requirement = models.ForeignKey(RequiredDocument, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=_document_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    reason = models.TextField(_("reason"), blank=True)
    uploaded_by = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requirement__name", "-uploaded_at"]
