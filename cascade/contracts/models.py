"""Document templates (versioned), contracts and amendments generated from subscription versions.

A contract freezes what it says when it is generated (its context and text); its PDF is the
document sent for signature. A signed contract is never modified: a change is an amendment,
made from a new subscription version.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation
from cascade.places.models import Place
from cascade.subscriptions.models import ContractKind, Subscription, SubscriptionVersion

# A template or a document is one of the contract kinds, or an amendment.
AMENDMENT = "avenant"
DOCUMENT_KINDS = [*ContractKind.choices, (AMENDMENT, _("Amendment"))]


class DocumentTemplate(models.Model):
    """An organisation's template of one kind of document; each save is a new version, and a
    contract names the version it was generated from."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="document_templates")
    kind = models.CharField(_("kind"), max_length=30, choices=DOCUMENT_KINDS)
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["organisation", "kind"], name="one_template_per_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> "DocumentTemplateVersion":
        return self.versions.order_by("-number").first()


class DocumentTemplateVersion(models.Model):
    TENANT_PATHS = ("template__organisation",)

    template = models.ForeignKey(DocumentTemplate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="unique_template_version")]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    TO_SIGN = "to_sign", _("to sign")
    SIGNED = "signed", _("signed")
    REFUSED = "refused", _("refused")
    EXPIRED = "expired", _("expired")
    CANCELLED = "cancelled", _("cancelled")
    SIGNED_OUTSIDE = "signed_outside", _("signed outside Cascade")


def _contract_path(instance: "Contract", filename: str) -> str:
    return f"contracts/{instance.organisation_id}/{instance.reference}-{instance.pk or 'new'}.pdf"


class Contract(models.Model):
    """A convention or an amendment (avenant n° k) of a subscription version."""

    TENANT_PATHS = ("organisation", "subscription__subscriber")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="contracts")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="contracts")
    version = models.ForeignKey(SubscriptionVersion, on_delete=models.PROTECT, related_name="contracts")
    kind = models.CharField(_("kind"), max_length=30, choices=DOCUMENT_KINDS)
    amendment_number = models.PositiveSmallIntegerField(null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    template_version = models.ForeignKey(DocumentTemplateVersion, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="contracts")
    # What the document says, frozen when generated: the variables and the rendered text.
    context = models.JSONField(default=dict)
    changes = models.JSONField(default=list, blank=True)
    pdf = models.FileField(upload_to=_contract_path, max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ContractStatus.choices,
                              default=ContractStatus.DRAFT)
    signature_request = models.OneToOneField("signing.SignatureRequest", null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="contract")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["subscription", "version__number", "created_at"]

    def __str__(self) -> str:
        return f"{self.title} {self.reference}"

    @property
    def is_amendment(self) -> bool:
        return self.kind == AMENDMENT


class EndNotice(models.Model):
    """An alert sent once before a subscription's or a place's convention ends."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    place = models.ForeignKey(Place, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    end_date = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "end_date"], name="one_notice_per_subscription_end"),
            models.UniqueConstraint(fields=["place", "end_date"], name="one_notice_per_place_end"),
        ]
