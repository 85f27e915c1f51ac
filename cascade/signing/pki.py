"""Cascade's private certificate authority and the organisations' sealing certificates ("cachets").

Keys are RSA 3072 signed with PKCS#1 v1.5 / SHA-256: the one combination every PDF validator
accepts (Acrobat, poppler/NSS, pyHanko, the EU DSS), where ECDSA and RSA-PSS still trip some.
Private keys only ever leave this module as PKCS#8 PEM encrypted with a passphrase.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

KEY_SIZE = 3072
# RFC 9336 id-kp-documentSigning. emailProtection rides along because NSS (poppler's pdfsig,
# Firefox, LibreOffice) checks PDF signers as e-mail signers and rejects a certificate whose
# extended key usage lacks it; Acrobat accepts either.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
# Backdated a little so that a verifier whose clock lags does not see a not-yet-valid certificate.
CLOCK_SKEW = timedelta(minutes=10)


class PkiError(Exception):
    """A key or certificate that cannot be used: wrong passphrase, damaged PEM, mismatched pair."""


@dataclass(frozen=True)
class Credentials:
    certificate_pem: bytes
    private_key_pem: bytes


def create_authority(common_name: str, *, passphrase: bytes, valid_years: int = 20) -> Credentials:
    """A self-signed root that only issues sealing certificates (hence pathLen 0)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + _years(valid_years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Credentials(certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
                       private_key_pem=_encrypted(key, passphrase))


def issue_sealing_certificate(authority: Credentials, authority_passphrase: bytes, *, organisation: str,
                              siret: str | None, passphrase: bytes, valid_years: int = 5,
                              country: str = "FR") -> Credentials:
    """An electronic seal ("cachet électronique") certificate naming the organisation, as a legal person."""
    if not organisation.strip():
        raise PkiError("Le nom de l'organisation est vide : impossible d'émettre son certificat de cachet.")
    ca_certificate = load_certificate(authority.certificate_pem)
    ca_key = load_private_key(authority.private_key_pem, authority_passphrase)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    now = datetime.now(UTC)
    # A certificate outliving its authority could never be validated for those extra days.
    not_after = min(now + _years(valid_years), ca_certificate.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_organisation_name(organisation, siret, country))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    certificate = builder.sign(ca_key, hashes.SHA256())
    return Credentials(certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
                       private_key_pem=_encrypted(key, passphrase))


def fingerprint(certificate_pem: bytes) -> str:
    """SHA-256 of the DER certificate, as certificate viewers show it: "AB:CD:…"."""
    der = load_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def subject_name(certificate_pem: bytes) -> str:
    return describe_name(load_certificate(certificate_pem).subject)


def describe_name(name: x509.Name) -> str:
    return name.rfc4514_string({NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier"})


def load_certificate(certificate_pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(certificate_pem)
    except (ValueError, TypeError) as error:
        raise PkiError(f"Certificat illisible (PEM attendu) : {error}") from None


def load_private_key(private_key_pem: bytes, passphrase: bytes) -> rsa.RSAPrivateKey:
    try:
        # The RSA consistency check costs ~0.1 s a load, on keys this module generated itself.
        key = serialization.load_pem_private_key(private_key_pem, password=passphrase or None,
                                                 unsafe_skip_rsa_key_validation=True)
    except TypeError:
        raise PkiError("La clé privée est chiffrée : une phrase de passe est nécessaire pour l'utiliser.") from None
    except ValueError:
        raise PkiError("Impossible d'ouvrir la clé privée : phrase de passe incorrecte ou clé endommagée "
                       "(vérifiez la phrase de passe configurée).") from None
    except UnsupportedAlgorithm as error:
        raise PkiError(f"Clé privée d'un type non pris en charge : {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PkiError("Clé privée d'un type non pris en charge : RSA attendu.")
    return key


def _organisation_name(organisation: str, siret: str | None, country: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)]
    identifier = _organisation_identifier(siret, country)
    if identifier:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, identifier))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, organisation))
    return x509.Name(attributes)


def _organisation_identifier(siret: str | None, country: str) -> str | None:
    """ETSI EN 319 412-1 §5.1.4 semantics: "NTR" + country + "-" + trade-register number.

    The register number of a French legal person is its SIREN, the first nine digits of a SIRET
    (the other five name an establishment, not the person). A value that is no SIRET/SIREN is left
    out rather than certified wrong.
    """
    digits = re.sub(r"[\s.-]", "", siret or "")
    if country != "FR" or not digits.isdigit() or len(digits) not in (9, 14):
        return None
    return f"NTRFR-{digits[:9]}"


def _key_usage(*, digital_signature: bool = False, content_commitment: bool = False, key_cert_sign: bool = False,
               crl_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=content_commitment,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=key_cert_sign, crl_sign=crl_sign, encipher_only=False, decipher_only=False)


def _encrypted(key: rsa.RSAPrivateKey, passphrase: bytes) -> bytes:
    if not passphrase:
        raise PkiError("Une phrase de passe non vide est nécessaire pour protéger la clé privée.")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase))


def _years(years: int) -> timedelta:
    return timedelta(days=365 * years + years // 4)
