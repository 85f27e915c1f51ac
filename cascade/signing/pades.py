"""PAdES seals on PDF files, and their verification by anyone.

Each seal is an incremental update (ETSI.CAdES.detached, SHA-256, the certificate path
embedded), so a later seal never invalidates an earlier one. The first seal may certify the document with a
DocMDP policy that still allows form filling and further signatures (ISO 32000-1 §12.8.2.2,
P=2): any other change made afterwards is then reported as tampering.
"""

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from pyhanko.pdf_utils import embed
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError, get_pyca_cryptography_hash
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    PdfSignatureStatus,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.status import ModificationInfo, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import pki

UNREADABLE = "le fichier est tronqué ou endommagé, ou ce n'est pas un PDF"


class NotAPdf(Exception):
    """Bytes that cannot be read as a PDF document."""


class SealError(Exception):
    """A seal that cannot be applied to this document."""


@dataclass(frozen=True)
class Attachment:
    file_name: str
    data: bytes
    mime_type: str
    description: str = ""


@dataclass(frozen=True)
class SignatureCheck:
    field_name: str
    signer_name: str
    certificate_subject: str
    signing_time: datetime | None
    timestamped: bool
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    modification: str
    docmdp_ok: bool
    timestamp_authority: str | None = None
    # A PAdES-LTA document timestamp, added after the seals by anyone: it seals nothing.
    document_timestamp: bool = False


@dataclass(frozen=True)
class Verification:
    signed: bool
    intact: bool
    sealed_by_cascade: bool
    signatures: list[SignatureCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- sealing


def seal(pdf: bytes, *, credentials: pki.Credentials, passphrase: bytes, chain: list[bytes], field_name: str,
         signer_name: str, reason: str, location: str | None = None, certify: bool = False,
         timestamp_url: str | None = None, attachments: Sequence[Attachment] = ()) -> bytes:
    """The PDF with one more seal, in an invisible signature field `field_name`, appended as an incremental update.

    `attachments` are embedded in the same update, before signing, so the seal covers them.
    """
    signer = _Signer(credentials, passphrase, chain)
    writer = _incremental_writer(pdf)
    if attachments:
        _embed(writer, attachments)
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name, name=signer_name, reason=reason, location=location, md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES, certify=certify, docmdp_permissions=fields.MDPPerm.FILL_FORMS)
    pdf_signer = signers.PdfSigner(
        metadata, signer, timestamper=_timestamper(timestamp_url) if timestamp_url else None,
        new_field_spec=fields.SigFieldSpec(sig_field_name=field_name))
    try:
        return pdf_signer.sign_pdf(writer).getvalue()
    except TimestampRequestError as error:
        raise SealError(f"L'autorité d'horodatage {timestamp_url} n'a pas délivré de jeton ({error}) : "
                        "vérifiez l'adresse configurée ou réessayez plus tard.") from None
    except SigningError as error:
        raise SealError(f"Impossible de sceller le document (champ « {field_name} ») : {error}") from None


@functools.lru_cache(maxsize=8)
def _timestamper(url: str) -> HTTPTimeStamper:
    """One per URL: pyHanko sizes the signature with a first token that it keeps, so only the
    first seal of the process pays two round trips to the authority. It holds no connection."""
    return HTTPTimeStamper(url)


class _Signer(signers.SimpleSigner):
    """RSA PKCS#1 v1.5, the mechanism every validator supports, with the key loaded once.

    pyHanko's SimpleSigner re-imports its key for each of the two signatures a seal takes (a dry
    run sizes the placeholder), paying the 0.1 s RSA consistency check each time.
    """

    def __init__(self, credentials: pki.Credentials, passphrase: bytes, chain: list[bytes]):
        self._key = pki.load_private_key(credentials.private_key_pem, passphrase)
        certificate = pki.load_certificate(credentials.certificate_pem)
        if self._key.public_key().public_numbers() != certificate.public_key().public_numbers():
            raise pki.PkiError("La clé privée ne correspond pas au certificat de cachet fourni.")
        der = self._key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        super().__init__(
            signing_cert=_asn1_certificate(credentials.certificate_pem),
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_certificate(c) for c in chain]),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            # A root proves nothing (verifiers bring their own trust anchors). Embedded in every
            # seal, it also makes poppler 22 (Debian 12: pdfsig, Evince, Okular) misreport the
            # certificate of the seals after the first far more often (see tests/test_pades.py).
            embed_roots=False)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


def _incremental_writer(pdf: bytes) -> IncrementalPdfFileWriter:
    _check_envelope(pdf)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    except Exception as error:  # pyHanko raises anything from PdfReadError to IndexError on damaged files
        raise NotAPdf(f"{UNREADABLE} ({error})") from None
    if writer.prev.encrypted:
        raise SealError("Ce PDF est chiffré (protégé par mot de passe) : Cascade ne peut pas le sceller.")
    return writer


def _embed(writer: IncrementalPdfFileWriter, attachments: Sequence[Attachment]) -> None:
    names = [a.file_name for a in attachments]
    if len(set(names)) < len(names):
        raise SealError(f"Deux pièces jointes portent le même nom ({', '.join(names)}) : renommez-en une.")
    # Adding files after a seal changes the catalog, which a certification seal forbids.
    if any(True for _ in fields.enumerate_sig_fields(writer.prev, filled_status=True)):
        raise SealError("Les pièces jointes ne peuvent être ajoutées qu'avec le premier cachet du document.")
    now = datetime.now(UTC)
    for attachment in attachments:
        data = embed.EmbeddedFileObject.from_file_data(
            writer, attachment.data, mime_type=attachment.mime_type,
            params=embed.EmbeddedFileParams(creation_date=now, modification_date=now))
        try:
            embed.embed_file(writer, embed.FileSpec(
                file_spec_string=attachment.file_name, file_name=attachment.file_name, embedded_data=data,
                description=attachment.description or None))
        except NotImplementedError:
            raise SealError("Ce PDF contient déjà des pièces jointes sous une forme que Cascade ne sait pas "
                            "compléter.") from None
    # A name tree's keys must be sorted (ISO 32000-1 §7.9.6); embed_file only appends.
    entries = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    pairs = sorted(((entries[i], entries.raw_get(i + 1)) for i in range(0, len(entries), 2)),
                   key=lambda pair: str(pair[0]))
    entries[:] = [item for pair in pairs for item in pair]
    writer.update_container(entries)


# ---------------------------------------------------------------- verification


def verify(pdf: bytes, *, trust_roots: list[bytes]) -> Verification:
    """Who sealed this PDF and when, whether it is intact, and whether Cascade's authorities issued the seals."""
    roots = [_asn1_certificate(root) for root in trust_roots]
    reader = _reader(pdf)
    problems: list[str] = []
    checks: list[SignatureCheck] = []
    for name, embedded in _embedded_signatures(reader, problems):
        if embedded is None:
            checks.append(_broken(name))
            continue
        check, found = _check(embedded, roots)
        checks.append(check)
        problems += found
    if not checks:
        return Verification(signed=False, intact=False, sealed_by_cascade=False,
                            problems=[*problems, "Ce PDF ne porte aucune signature électronique."])
    seals = [c for c in checks if not c.document_timestamp]
    # Changes after a signature are allowed only when another signature covers them: the last one
    # must cover the whole file. pyHanko files an unsigned metadata update under LTA_UPDATES, which
    # its DocMDP check lets through; nobody signed it, so the file is no longer what was sealed.
    last = checks[-1]
    unsigned_tail = last.intact and last.valid and not last.covers_whole_file
    if unsigned_tail and last.docmdp_ok:  # otherwise the DocMDP problem already says so
        problems.append(f"Le fichier a été modifié après la dernière signature « {last.field_name} » "
                        f"(mise à jour que personne n'a signée).")
    return Verification(
        signed=True,
        intact=all(c.intact and c.valid and c.docmdp_ok for c in checks) and not unsigned_tail,
        sealed_by_cascade=bool(seals) and all(c.trusted for c in seals),
        signatures=checks, problems=problems)


def _reader(pdf: bytes) -> PdfFileReader:
    _check_envelope(pdf)
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        reader.root["/Pages"]
    except Exception as error:  # pyHanko raises anything from PdfReadError to IndexError on damaged files
        raise NotAPdf(f"{UNREADABLE} ({error})") from None
    if reader.encrypted:
        raise NotAPdf("ce PDF est chiffré (protégé par mot de passe) : ses signatures ne peuvent pas être vérifiées")
    return reader


def _check_envelope(pdf: bytes) -> None:
    if not pdf:
        raise NotAPdf("le fichier est vide")
    if not pdf.startswith(b"%PDF-"):
        raise NotAPdf("le fichier ne commence pas par l'en-tête « %PDF- » d'un document PDF")
    # ISO 32000-1 §7.5.5: a PDF ends with %%EOF, which readers look for in its last 1 024 bytes.
    # Without one there, a file cut in the middle of a later revision would be read as its earlier,
    # complete revision. Bytes added after %%EOF are read, and show as a change after the seal.
    if b"%%EOF" not in pdf[-1024:]:
        raise NotAPdf("le fichier ne se termine pas par « %%EOF » : il est tronqué ou endommagé")


def _embedded_signatures(reader: PdfFileReader, problems: list[str]) -> list[tuple[str, EmbeddedPdfSignature | None]]:
    """(field name, signature or None when unreadable), in the order they were applied."""
    found = []
    try:
        for name, _value, sig_field in fields.enumerate_sig_fields(reader, filled_status=True):
            try:
                found.append((name, EmbeddedPdfSignature(reader, sig_field, name)))
            except Exception:  # a damaged /Contents or /ByteRange must read as a broken signature
                problems.append(_unreadable(name))
                found.append((name, None))
    except Exception as error:  # same reason, for the form's field tree
        raise NotAPdf(f"{UNREADABLE} ({error})") from None
    return sorted(found, key=lambda pair: pair[1].signed_revision if pair[1] else -1)


def _check(embedded: EmbeddedPdfSignature, roots: list[asn1_x509.Certificate]) -> tuple[SignatureCheck, list[str]]:
    name = embedded.field_name
    try:
        if embedded.sig_object_type == "/DocTimeStamp":
            return _check_document_timestamp(embedded, roots)
        status = validate_pdf_signature(embedded, _context(roots, _moment(embedded)))
    except Exception:  # same reason: whatever pyHanko or asn1crypto choke on is a broken signature
        return _broken(name), [_unreadable(name)]
    timestamp = status.timestamp_validity
    timestamped = timestamp is not None and timestamp.intact and timestamp.valid
    # The timestamp token is part of the signature container: a broken one is a broken signature.
    valid = status.valid and (timestamp is None or timestamped)
    check = SignatureCheck(
        field_name=name, signer_name=str(embedded.sig_object.get("/Name", "")),
        certificate_subject=_subject(status.signing_cert),
        signing_time=_aware(timestamp.timestamp if timestamped else status.signer_reported_dt),
        timestamped=timestamped, intact=status.intact, valid=valid, trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        modification=_modification(status), docmdp_ok=bool(status.docmdp_ok),
        timestamp_authority=_subject(timestamp.signing_cert) if timestamp is not None else None)
    return check, _problems(check, status)


def _check_document_timestamp(embedded: EmbeddedPdfSignature,
                              roots: list[asn1_x509.Certificate]) -> tuple[SignatureCheck, list[str]]:
    """A PAdES-LTA document timestamp someone added later: it must not break anything, but seals nothing."""
    status = validate_pdf_timestamp(embedded, _context(roots, None))
    authority = _subject(status.signing_cert)
    level = status.modification_level
    check = SignatureCheck(
        field_name=embedded.field_name, signer_name="Horodatage du document", certificate_subject=authority,
        signing_time=_aware(status.timestamp), timestamped=True, intact=status.intact, valid=status.valid,
        trusted=status.trusted, covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        modification=_modification(status),
        docmdp_ok=level is not None and level.value <= ModificationLevel.FORM_FILLING.value,
        timestamp_authority=authority, document_timestamp=True)
    return check, _problems(check, None)


def _problems(check: SignatureCheck, status: PdfSignatureStatus | None) -> list[str]:
    name = check.field_name
    if not (check.intact and check.valid):
        return [f"Signature « {name} » : le contenu signé a été modifié ou la signature est corrompue."]
    problems = []
    if not check.docmdp_ok:
        problems.append(f"Le document a été modifié après la signature « {name} ».")
    if status is not None and not check.trusted:
        if status.trust_problem_indic in (None, AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND):
            problems.append(f"Signature « {name} » : certificat non émis par Cascade ({check.certificate_subject}).")
        else:
            problems.append(f"Signature « {name} » : certificat refusé ({status.trust_problem_indic.name}).")
    return problems


def _context(roots: list[asn1_x509.Certificate], moment: datetime | None) -> ValidationContext:
    # Cascade's private authorities publish neither CRL nor OCSP: soft-fail accepts the missing
    # revocation information, and nothing is fetched from the network.
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=moment)


def _moment(embedded: EmbeddedPdfSignature) -> datetime | None:
    """When to judge the certificate: now, or when the seal was made once its certificate has expired.

    A seal made while its certificate was valid stays valid (sealing certificates live 5 years,
    contracts longer). Without revocation there is no stronger proof of time to wait for.
    """
    not_after = embedded.signer_cert["tbs_certificate"]["validity"]["not_after"].native
    now = _now()
    if not_after >= now:
        return now
    return _aware(embedded.self_reported_timestamp) or now


def _now() -> datetime:
    return datetime.now(UTC)


def _modification(status: ModificationInfo) -> str:
    level = status.modification_level
    return level.name if level is not None else "UNKNOWN"


def _unreadable(name: str) -> str:
    return f"Signature « {name} » : illisible, endommagée ou d'un format que Cascade ne sait pas vérifier."


def _broken(name: str) -> SignatureCheck:
    return SignatureCheck(field_name=name, signer_name="", certificate_subject="", signing_time=None,
                          timestamped=False, intact=False, valid=False, trusted=False, covers_whole_file=False,
                          modification="UNKNOWN", docmdp_ok=False)


def _subject(certificate: asn1_x509.Certificate) -> str:
    return pki.describe_name(x509.load_der_x509_certificate(certificate.dump()).subject)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _asn1_certificate(certificate_pem: bytes) -> asn1_x509.Certificate:
    certificate = pki.load_certificate(certificate_pem)
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
