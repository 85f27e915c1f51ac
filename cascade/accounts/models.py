"""Organisations, memberships with roles, invitations and the audit log."""

import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    ACCOUNTANT = "accountant", _("Accountant")
    MEMBER = "member", _("Member")
    VIEWER = "viewer", _("Viewer")


# Who may change what; reading is open to every role of the organisation.
MANAGE_ROLES = (Role.ADMIN, Role.MANAGER)
BILLING_ROLES = (Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT)
ADMIN_ROLES = (Role.ADMIN,)


class OrganisationKind(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    OCCUPANT = "occupant", _("Occupant")
    PARTNER = "partner", _("Partner")
    FUNDER = "funder", _("Funder")


class Organisation(models.Model):
    """A legal entity using Cascade, or known to an operator (its occupants, partners)."""

    # Tenancy: an organisation is visible to its own members and to the operator that manages it.
    TENANT_PATHS = ("pk", "operator")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(unique=True, max_length=80)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    operator = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="managed",
        help_text=_("The operator that manages this organisation's record."),
    )
    legal_form = models.CharField(_("legal form"), max_length=100, blank=True)
    siret = models.CharField("SIRET", max_length=14, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    # Printed on invoices when set (Code de commerce, art. R123-237: RCS and share capital of a company).
    registration = models.CharField(
        _("registration"), max_length=200, blank=True,
        help_text=_("E.g. \"au capital de 12 000 € — RCS Bobigny 439 206 400\"; printed on invoices."),
    )
    iban = models.CharField("IBAN", max_length=34, blank=True)
    sepa_creditor_id = models.CharField(_("SEPA creditor identifier"), max_length=35, blank=True)
    sepa_prenotification_days = models.PositiveSmallIntegerField(
        _("direct debit notice (days)"), default=14, validators=[MinValueValidator(1)],
        help_text=_("How many days before a direct debit the debtor is told of its amount and date."))
    address = models.TextField(_("address"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    billing_emails = models.CharField(
        _("billing e-mail addresses"), max_length=500, blank=True,
        help_text=_("Where invoices are sent, separated by commas; the organisation's e-mail when empty."))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    contact_name = models.CharField(_("contact"), max_length=200, blank=True)
    # Who signs for the organisation, named in its contracts ("Mme Dupont, présidente").
    representative = models.CharField(_("legal representative"), max_length=200, blank=True)
    representative_title = models.CharField(_("representative's capacity"), max_length=100, blank=True)
    price_category = models.CharField(_("price category"), max_length=100, blank=True)
    is_cooperative_member = models.BooleanField(_("cooperative member"), default=False)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    payment_terms_end_of_month = models.BooleanField(
        _("end of month"), default=False, help_text=_("Due at the end of the month the payment terms end in."))
    # Services owe VAT when paid, unless the seller opted for debits: a mandatory mention then.
    vat_on_debits = models.BooleanField(_("VAT paid on debits"), default=False)
    end_notice_days = models.PositiveSmallIntegerField(
        _("notice before a convention ends (days)"), default=90,
        help_text=_("Conventions ending within this many days are shown on the dashboard and e-mailed."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [models.CheckConstraint(condition=models.Q(sepa_prenotification_days__gte=1),
                                              name="sepa_notice_of_a_day_at_least")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    TENANT_PATHS = ("organisation",)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True, default=_new_token, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class AuditEvent(models.Model):
    """One row per change of state, written by the action that made it."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, null=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"
