"""Cascade's certificate authority and the organisations' sealing certificates, kept in the database.

The authority is created at install (after `cascade migrate`, see apps.py) and issues each
organisation's sealing certificate the first time that organisation seals a document. Private
keys are stored encrypted with `settings.SIGNING_KEY_PASSPHRASE`.
"""

from cryptography import x509
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cascade.accounts.models import Organisation

from . import pki
from .models import CertificateAuthority, SealingIdentity

AUTHORITY_NAME = "Cascade — autorité de certification"


def passphrase() -> bytes:
    return settings.SIGNING_KEY_PASSPHRASE.encode()


def authority() -> CertificateAuthority:
    """The authority that issues new sealing certificates; created on first need."""
    found = CertificateAuthority.objects.order_by("-created_at").first()
    if found is not None:
        return found
    with transaction.atomic():
        credentials = pki.create_authority(AUTHORITY_NAME, passphrase=passphrase())
        return CertificateAuthority.objects.create(
            name=AUTHORITY_NAME, certificate_pem=credentials.certificate_pem.decode(),
            private_key_pem=credentials.private_key_pem.decode(),
            fingerprint=pki.fingerprint(credentials.certificate_pem))


def trust_roots() -> list[bytes]:
    """Every authority Cascade ever created: a document sealed under an older one stays Cascade's."""
    return [ca.certificate_pem.encode() for ca in CertificateAuthority.objects.order_by("created_at")]


def sealing_identity(organisation: Organisation) -> SealingIdentity:
    """The organisation's current sealing certificate, issued when it has none still valid."""
    now = timezone.now()
    found = SealingIdentity.objects.filter(organisation=organisation, not_after__gt=now).select_related(
        "authority").first()
    if found is not None:
        return found
    ca = authority()
    credentials = pki.issue_sealing_certificate(
        _credentials(ca.certificate_pem, ca.private_key_pem), passphrase(),
        organisation=organisation.name, siret=organisation.siret or None, passphrase=passphrase())
    return SealingIdentity.objects.create(
        organisation=organisation, authority=ca, certificate_pem=credentials.certificate_pem.decode(),
        private_key_pem=credentials.private_key_pem.decode(), fingerprint=pki.fingerprint(credentials.certificate_pem),
        not_after=x509.load_pem_x509_certificate(credentials.certificate_pem).not_valid_after_utc)


def credentials(identity: SealingIdentity) -> pki.Credentials:
    return _credentials(identity.certificate_pem, identity.private_key_pem)


def _credentials(certificate_pem: str, private_key_pem: str) -> pki.Credentials:
    return pki.Credentials(certificate_pem=certificate_pem.encode(), private_key_pem=private_key_pem.encode())
