"""Places, resource types and resources (with sub-units, validity dates and lineage)."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation


class VatRegime(models.TextChoices):
    VAT = "vat", _("VAT option")
    EXEMPT = "exempt", _("Exempt (art. 261 D 2° CGI)")
    FRANCHISE = "franchise", _("Franchise en base (art. 293 B CGI)")


class Place(models.Model):
    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="places")
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    owner_name = models.CharField(_("owner"), max_length=200, blank=True)
    convention_start = models.DateField(_("start of the owner's convention"))
    convention_end = models.DateField(_("end of the owner's convention"))
    vat_regime = models.CharField(_("VAT regime"), max_length=10, choices=VatRegime.choices)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="unique_place_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def invoice_vat_rate(self) -> Decimal | None:
        """The rate applied on invoices; None when exempt."""
        return self.vat_rate if self.vat_regime == VatRegime.VAT else None


class PlaceShare(models.Model):
    """A co-managing organisation of a place and its share (percent)."""

    TENANT_PATHS = ("place__organisation",)

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="shares")
    partner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="place_shares")
    share = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["-share"]


class Unit(models.TextChoices):
    M2 = "m2", _("m²")
    UNIT = "unit", _("unit")
    HOUR = "hour", _("hour")


class PriceBasis(models.TextChoices):
    PER_M2 = "per_m2", _("per m² per month")
    FLAT = "flat", _("flat per month")


class ResourceType(models.Model):
    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="resource_types")
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.M2)
    rentable = models.BooleanField(_("rentable"), default=True)
    reference_price = models.DecimalField(
        _("reference price"), max_digits=12, decimal_places=2, default=Decimal("0"),
        help_text=_("Used to value vacancy: per m² per month, or flat per month."),
    )
    price_basis = models.CharField(max_length=10, choices=PriceBasis.choices, default=PriceBasis.PER_M2)
    # Operator-defined attributes: [{"key": "sink", "label": "Point d'eau", "type": "bool"}, …]
    attributes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="unique_resource_type")]

    def __str__(self) -> str:
        return self.name


class Resource(models.Model):
    """Anything allocatable in a place; sub-units point to their parent.

    Validity dates are inclusive, as operators write them; `valid_until` None = open.
    """

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="resources")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="resources")
    type = models.ForeignKey(ResourceType, on_delete=models.PROTECT, related_name="resources")
    reference = models.CharField(_("reference"), max_length=50)
    building = models.CharField(_("building"), max_length=100, blank=True)
    floor = models.CharField(_("floor"), max_length=20, blank=True)
    surface = models.DecimalField(_("surface (m²)"), max_digits=10, decimal_places=2, null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    accessible = models.BooleanField(_("accessible (PMR)"), default=False)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    reference_price = models.DecimalField(
        _("reference price override"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["place", "reference"]
        constraints = [models.UniqueConstraint(fields=["place", "reference"], name="unique_resource_ref")]

    def __str__(self) -> str:
        return self.reference

    @property
    def monthly_reference_price(self) -> Decimal:
        """What a month of this resource is worth, to value its vacancy."""
        if self.reference_price is not None:
            return self.reference_price
        if self.type.price_basis == PriceBasis.FLAT:
            return self.type.reference_price
        return (self.type.reference_price * self.surface) if self.surface is not None else Decimal("0")

    @property
    def valid_end_exclusive(self) -> date | None:
        return self.valid_until + timedelta(days=1) if self.valid_until else None

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class ResourceChange(models.Model):
    """A split (one into several) or a merge (several into one) from a given date."""

    class Kind(models.TextChoices):
        SPLIT = "split", _("split")
        MERGE = "merge", _("merge")

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    effective_date = models.DateField(_("effective date"))
    sources = models.ManyToManyField(Resource, related_name="became")
    results = models.ManyToManyField(Resource, related_name="came_from")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_date", "-id"]
