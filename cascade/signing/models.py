"""Signature requests, their signers and their evidence; Cascade's certificate authority and the
organisations' sealing certificates.

A request knows nothing of what it signs (a convention, an amendment, later a SEPA mandate):
the owner of the document listens to `signals.request_completed` and its siblings.
"""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cascade.accounts.models import Organisation


class CertificateAuthority(models.Model):
    """The authority Cascade creates at install; it issues the organisations' sealing certificates."""

    name = models.CharField(max_length=200)
    certificate_pem = models.TextField()
    private_key_pem = models.TextField()  # encrypted with settings.SIGNING_KEY_PASSPHRASE
    fingerprint = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class SealingIdentity(models.Model):
    """An organisation's electronic seal: its certificate and key, issued by the authority."""

    TENANT_PATHS = ("organisation",)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sealing_identities")
    authority = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="identities")
    certificate_pem = models.TextField()
    private_key_pem = models.TextField()
    fingerprint = models.CharField(max_length=100, unique=True)
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class RequestState(models.TextChoices):
    DRAFT = "draft", _("draft")
    TO_SIGN = "to_sign", _("to sign")
    SIGNED = "signed", _("signed")
    REFUSED = "refused", _("refused")
    EXPIRED = "expired", _("expired")
    CANCELLED = "cancelled", _("cancelled")


FINAL_STATES = (RequestState.SIGNED, RequestState.REFUSED, RequestState.EXPIRED, RequestState.CANCELLED)


def _document_path(instance: "SignatureRequest", filename: str) -> str:
    return f"signing/{instance.organisation_id}/{instance.reference}/{filename}"


class SignatureRequest(models.Model):
    TENANT_PATHS = ("organisation", "signers__organisation")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="signature_requests")
    reference = models.CharField(max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=RequestState.choices, default=RequestState.DRAFT)
    document = models.FileField(upload_to=_document_path, max_length=200)
    document_sha256 = models.CharField(max_length=64)
    document_pages = models.PositiveSmallIntegerField(default=0)
    signed_document = models.FileField(upload_to=_document_path, max_length=200, blank=True)
    signed_sha256 = models.CharField(max_length=64, blank=True)
    link_days = models.PositiveSmallIntegerField(_("links valid for (days)"), default=14)
    reminder_days = models.PositiveSmallIntegerField(_("remind after (days)"), default=3)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)  # why it was refused or cancelled

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state == RequestState.TO_SIGN


class SignerState(models.TextChoices):
    WAITING = "waiting", _("waiting for their turn")
    INVITED = "invited", _("invited")
    SIGNED = "signed", _("signed")
    REFUSED = "refused", _("refused")


class Party(models.TextChoices):
    OCCUPANT = "occupant", _("occupant")
    OPERATOR = "operator", _("operator")


class Signer(models.Model):
    TENANT_PATHS = ("request__organisation", "organisation")

    request = models.ForeignKey(SignatureRequest, on_delete=models.CASCADE, related_name="signers")
    order = models.PositiveSmallIntegerField()
    party = models.CharField(max_length=10, choices=Party.choices)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    quality = models.CharField(_("signing as"), max_length=120, blank=True)
    state = models.CharField(max_length=10, choices=SignerState.choices, default=SignerState.WAITING)
    # The personal link is `<pk>-<nonce>-<HMAC of both under SECRET_KEY>` (tokens.py): it can be
    # sent again in a reminder, and a new nonce revokes it.
    link_nonce = models.CharField(max_length=32, blank=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    code_hash = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    typed_name = models.CharField(max_length=200, blank=True)
    drawing = models.BinaryField(null=True, blank=True)  # PNG of a drawn signature, optional
    refusal_reason = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["request", "order"]
        constraints = [models.UniqueConstraint(fields=["request", "order"], name="one_signer_per_rank")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


# What each kind of event means, in the request's page and (in French) on the evidence page.
EVENT_LABELS = {
    "created": _("Request created"),
    "sent": _("Signing link sent"),
    "link_renewed": _("New link sent"),
    "reminded": _("Reminder sent"),
    "opened": _("Signing page opened"),
    "document_displayed": _("PDF shown in the signing page"),
    "document_viewed": _("PDF document opened"),
    "code_sent": _("One-time code sent"),
    "code_failed": _("Wrong code"),
    "locked": _("Link locked"),
    "code_verified": _("Identity confirmed by the code"),
    "document_uploaded": _("Supporting document uploaded"),
    "signed": _("Document signed"),
    "refused": _("Signature refused"),
    "cancelled": _("Request cancelled"),
    "expired": _("Request expired"),
    "completed": _("Document sealed"),
}


class SignatureEvent(models.Model):
    """One line of a request's evidence log: append-only, each line hashing the one before.

    Rows are never updated nor deleted (save() and delete() refuse, and database triggers
    added by the migration refuse too)."""

    TENANT_PATHS = ("request__organisation",)

    request = models.ForeignKey(SignatureRequest, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=30)
    signer = models.ForeignKey(Signer, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    document_sha256 = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["request", "seq"]
        constraints = [models.UniqueConstraint(fields=["request", "seq"], name="one_event_per_seq")]

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.kind, self.kind))

    def content(self) -> dict:
        """What the hash covers, as plain values."""
        return {"request": self.request.reference, "seq": self.seq, "kind": self.kind,
                "signer": self.signer.email if self.signer_id else None, "at": self.at.isoformat(),
                "ip": self.ip, "user_agent": self.user_agent, "document_sha256": self.document_sha256,
                "data": self.data, "previous_hash": self.previous_hash}

    def compute_hash(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("a signature event is never modified")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("a signature event is never deleted")
