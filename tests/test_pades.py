"""Cascade's seals (pki + pades): a sealed PDF is accepted by pyHanko and by poppler's pdfsig,
later seals leave earlier ones valid, any other change is reported, foreign or damaged files are
recognised. No database: these are pure modules."""

import hashlib
import io
import os
import re
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import typst
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps import DummyTimeStamper
from pypdf import PdfReader

from cascade.signing import pades, pki
from conftest import pdfsig_report

CA_PASSPHRASE = b"ca secret"
SEAL_PASSPHRASE = b"seal secret"
CONTRACT = b"""#set page(paper: "a4")
= Convention d'occupation temporaire
Loyer mensuel : 1000 EUR.
#pagebreak()
== Conditions
Article 2.
#pagebreak()
== Signatures
Fait a Lyon.
"""


@pytest.fixture(scope="module")
def authority() -> pki.Credentials:
    return pki.create_authority("Cascade — autorité de certification", passphrase=CA_PASSPHRASE)


@pytest.fixture(scope="module")
def sealing(authority) -> pki.Credentials:
    return pki.issue_sealing_certificate(authority, CA_PASSPHRASE, organisation="Tremplin Coop",
                                         siret="123 456 789 00012", passphrase=SEAL_PASSPHRASE)


@pytest.fixture(scope="module")
def contract() -> bytes:
    return typst.compile(CONTRACT)


@pytest.fixture(scope="module")
def seal(sealing, authority):
    def _seal(pdf: bytes, field_name: str, **options) -> bytes:
        options = {"credentials": sealing, "passphrase": SEAL_PASSPHRASE, "chain": [authority.certificate_pem],
                   "signer_name": "Tremplin Coop", "reason": "Cachet électronique", **options}
        return pades.seal(pdf, field_name=field_name, **options)
    return _seal


@pytest.fixture(scope="module")
def certified(seal, contract) -> bytes:
    return seal(contract, "Cachet", certify=True, location="Lyon")


@pytest.fixture(scope="module")
def three_seals(seal, certified) -> bytes:
    once = seal(certified, "Signataire-1", signer_name="Alice Martin", reason="Signé par Alice Martin")
    return seal(once, "Signataire-2", signer_name="Bob Durand", reason="Signé par Bob Durand")


def verify(pdf: bytes, authority: pki.Credentials) -> pades.Verification:
    return pades.verify(pdf, trust_roots=[authority.certificate_pem])


# ---------------------------------------------------------------- poppler's pdfsig


def pdfsig(pdf: bytes, roots: list[bytes], workdir: Path) -> list[str]:
    """What pdfsig says of each signature, trusting `roots` through a fresh NSS database."""
    (workdir / "file.pdf").write_bytes(pdf)
    return re.split(r"^Signature #\d+:$", pdfsig_report(workdir / "file.pdf", roots, workdir), flags=re.M)[1:]


def test_a_seal_is_accepted_by_pyhanko(certified, authority):
    result = verify(certified, authority)

    assert (result.signed, result.intact, result.sealed_by_cascade, result.problems) == (True, True, True, [])
    [check] = result.signatures
    assert check.field_name == "Cachet"
    assert check.signer_name == "Tremplin Coop"
    assert check.certificate_subject == "CN=Tremplin Coop,organizationIdentifier=NTRFR-123456789,O=Tremplin Coop,C=FR"
    assert (check.intact, check.valid, check.trusted, check.covers_whole_file) == (True, True, True, True)
    assert (check.modification, check.docmdp_ok, check.timestamped) == ("NONE", True, False)
    assert abs(datetime.now(UTC) - check.signing_time) < timedelta(minutes=5)


def test_a_seal_is_accepted_by_pdfsig(certified, authority, tmp_path):
    [report] = pdfsig(certified, [authority.certificate_pem], tmp_path)

    assert "Signature Field Name: Cachet" in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Signing Hash Algorithm: SHA-256" in report
    assert "Signature is Valid" in report
    assert "Certificate is Trusted" in report
    assert "Total document signed" in report


def test_pdfsig_does_not_trust_a_seal_without_cascades_root(certified, tmp_path):
    other = pki.create_authority("Autre autorité", passphrase=b"x")

    [report] = pdfsig(certified, [other.certificate_pem], tmp_path)

    assert "Signature is Valid" in report
    assert "Certificate is Trusted" not in report


def test_the_seal_is_a_pades_certification_with_name_reason_location(certified):
    reader = PdfReader(io.BytesIO(certified))
    [sig_field] = [f for f in reader.get_fields().values() if f.get("/FT") == "/Sig"]
    signature = sig_field["/V"]

    assert signature["/SubFilter"] == "/ETSI.CAdES.detached"
    assert (signature["/Name"], signature["/Reason"], signature["/Location"]) == (
        "Tremplin Coop", "Cachet électronique", "Lyon")
    # DocMDP P=2: form filling and further signatures remain allowed (ISO 32000-1 table 254).
    assert reader.trailer["/Root"]["/Perms"]["/DocMDP"].get_object() == signature
    assert signature["/Reference"][0]["/TransformParams"]["/P"] == 2
    widget = reader.pages[0]["/Annots"][0].get_object()
    assert [float(x) for x in widget["/Rect"]] == [0, 0, 0, 0]


def test_three_seals_in_a_row_all_verify(three_seals, authority):
    result = verify(three_seals, authority)

    assert (result.signed, result.intact, result.sealed_by_cascade, result.problems) == (True, True, True, [])
    assert [(s.field_name, s.signer_name) for s in result.signatures] == [
        ("Cachet", "Tremplin Coop"), ("Signataire-1", "Alice Martin"), ("Signataire-2", "Bob Durand")]
    assert all(s.intact and s.valid and s.trusted and s.docmdp_ok for s in result.signatures)
    assert [s.covers_whole_file for s in result.signatures] == [False, False, True]
    assert [s.modification for s in result.signatures] == ["FORM_FILLING", "FORM_FILLING", "NONE"]


# poppler 22 (Debian 12) reads NSS's thread error code after CERT_PKIXVerifyCert instead of its
# result; a certificate already met in an earlier signature of the file can leave a stale
# SEC_ERROR_REUSED_ISSUER_AND_SERIAL there, and pdfsig then prints this for a trusted certificate.
# Later poppler versions test the result. Nothing else is tolerated.
POPPLER_22_STALE_ERROR = "Unknown issue with Certificate or corrupted data."


def test_pdfsig_still_finds_the_earlier_seals_valid(three_seals, authority, tmp_path):
    reports = pdfsig(three_seals, [authority.certificate_pem], tmp_path)

    assert len(reports) == 3
    for report in reports:
        assert "Signature Validation: Signature is Valid." in report
    assert "Certificate Validation: Certificate is Trusted." in reports[0]
    for report in reports[1:]:
        assert ("Certificate Validation: Certificate is Trusted." in report
                or f"Certificate Validation: {POPPLER_22_STALE_ERROR}" in report), report
    # The same certificate throughout, found trusted at least for the first seal.
    names = {re.search(r"Signer full Distinguished Name: (.*)", r).group(1) for r in reports}
    assert names == {"CN=Tremplin Coop,OID.2.5.4.97=NTRFR-123456789,O=Tremplin Coop,C=FR"}
    assert ["Total document signed" in r and "Not total document signed" not in r for r in reports] == [
        False, False, True]


def test_a_byte_changed_in_the_signed_content_is_detected(certified, authority):
    reader = PdfReader(io.BytesIO(certified))
    content = reader.pages[0].get_object().raw_get("/Contents").idnum
    start = certified.index(b"stream", certified.index(f"\n{content} 0 obj".encode())) + len(b"stream\n") + 5
    tampered = bytearray(certified)
    tampered[start] ^= 0x20

    result = verify(bytes(tampered), authority)

    assert result.signed and not result.intact
    assert not result.signatures[0].intact
    assert result.problems == ["Signature « Cachet » : le contenu signé a été modifié ou la signature est corrompue."]


def _with_new_page_content(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    overlay = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (Loyer mensuel : 10 EUR) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(overlay))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_page_content_added_after_the_seal_is_detected(certified, authority):
    result = verify(_with_new_page_content(certified), authority)

    assert result.signed and not result.intact
    [check] = result.signatures
    assert (check.intact, check.valid, check.docmdp_ok, check.modification) == (True, True, False, "OTHER")
    assert result.problems == ["Le document a été modifié après la signature « Cachet »."]


def test_page_content_added_after_several_seals_is_detected(three_seals, authority):
    result = verify(_with_new_page_content(three_seals), authority)

    assert not result.intact
    assert "Le document a été modifié après la signature « Signataire-2 »." in result.problems
    assert not result.signatures[-1].covers_whole_file


def test_page_content_added_after_an_approval_seal_is_detected(seal, contract, authority):
    result = verify(_with_new_page_content(seal(contract, "Approbation")), authority)

    assert not result.intact
    assert result.problems == ["Le document a été modifié après la signature « Approbation »."]


def test_a_seal_from_another_authority_is_not_cascades(contract, authority):
    other = pki.create_authority("Autre autorité", passphrase=b"other")
    foreign = pki.issue_sealing_certificate(other, b"other", organisation="Ailleurs", siret=None, passphrase=b"y")
    pdf = pades.seal(contract, credentials=foreign, passphrase=b"y", chain=[other.certificate_pem],
                     field_name="Cachet", signer_name="Ailleurs", reason="Cachet")

    result = verify(pdf, authority)

    assert (result.signed, result.intact, result.sealed_by_cascade) == (True, True, False)
    assert not result.signatures[0].trusted
    assert result.problems == ["Signature « Cachet » : certificat non émis par Cascade (CN=Ailleurs,O=Ailleurs,C=FR)."]
    # Every authority Cascade ever had is a trust root: a seal under a retired one stays Cascade's.
    both = pades.verify(pdf, trust_roots=[authority.certificate_pem, other.certificate_pem])
    assert both.sealed_by_cascade and both.problems == []


def test_a_later_foreign_seal_makes_the_file_no_longer_only_cascades(certified, authority):
    other = pki.create_authority("Autre autorité", passphrase=b"other")
    foreign = pki.issue_sealing_certificate(other, b"other", organisation="Ailleurs", siret=None, passphrase=b"y")
    pdf = pades.seal(certified, credentials=foreign, passphrase=b"y", chain=[other.certificate_pem],
                     field_name="Tiers", signer_name="Ailleurs", reason="Vu")

    result = verify(pdf, authority)

    assert result.intact and not result.sealed_by_cascade
    assert [s.trusted for s in result.signatures] == [True, False]


def test_an_unsigned_pdf_says_so(contract, authority):
    result = verify(contract, authority)

    assert (result.signed, result.intact, result.sealed_by_cascade, result.signatures) == (False, False, False, [])
    assert result.problems == ["Ce PDF ne porte aucune signature électronique."]


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def test_bytes_appended_after_the_seal_are_a_change_not_a_broken_file(three_seals, authority):
    result = verify(three_seals + b"\nrubbish", authority)
    assert result.signed and not result.intact
    assert any("modifié après la dernière signature" in p for p in result.problems), result.problems


@pytest.mark.parametrize("damage", [
    pytest.param(lambda pdf: b"", id="empty"),
    pytest.param(lambda pdf: os.urandom(4096), id="garbage"),
    pytest.param(lambda pdf: PNG, id="png"),
    pytest.param(lambda pdf: b"%PDF-1.7\n" + b"\x00" * 2000 + b"\n%%EOF\n", id="header-only"),
    pytest.param(lambda pdf: pdf[: len(pdf) // 2], id="truncated-half"),
    pytest.param(lambda pdf: pdf[:-200], id="truncated-end"),
])
def test_what_is_not_a_readable_pdf_raises_not_a_pdf(damage, three_seals, authority):
    with pytest.raises(pades.NotAPdf) as error:
        verify(damage(three_seals), authority)
    assert str(error.value)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_byte_changed_in_a_signed_range_is_never_taken_for_intact(data, certified, authority):
    reader = PdfReader(io.BytesIO(certified))
    start, length1, start2, length2 = [int(x) for x in reader.trailer["/Root"]["/Perms"]["/DocMDP"]["/ByteRange"]]
    position = data.draw(st.one_of(st.integers(start, length1 - 1), st.integers(start2, start2 + length2 - 1)))
    tampered = bytearray(certified)
    tampered[position] ^= data.draw(st.integers(1, 255))

    try:
        result = verify(bytes(tampered), authority)
    except pades.NotAPdf:
        return
    assert not result.intact and result.problems


def test_attachments_are_embedded_and_sealed(seal, contract, authority):
    log = b'{"events": [{"seq": 1, "kind": "created"}]}'
    pdf = seal(contract, "Cachet", certify=True, attachments=[
        pades.Attachment("journal-de-preuve.json", log, "application/json", "Journal de preuve"),
        pades.Attachment("document-original.pdf", contract, "application/pdf", "Document présenté"),
    ])

    attached = PdfReader(io.BytesIO(pdf)).attachments
    assert attached == {"document-original.pdf": [contract], "journal-de-preuve.json": [log]}
    result = verify(pdf, authority)
    assert result.intact and result.signatures[0].covers_whole_file
    # Same revision as the seal: the seal covers them.
    assert len(re.findall(rb"%%EOF", pdf)) == len(re.findall(rb"%%EOF", contract)) + 1


def test_attachments_cannot_be_added_by_a_later_seal(seal, certified):
    with pytest.raises(pades.SealError, match="premier cachet"):
        seal(certified, "Signataire-1", attachments=[pades.Attachment("x.txt", b"x", "text/plain")])


def test_a_field_already_signed_cannot_be_sealed_again(seal, certified):
    with pytest.raises(pades.SealError, match="Cachet"):
        seal(certified, "Cachet")


def test_sealing_something_else_than_a_pdf_raises_not_a_pdf(seal):
    with pytest.raises(pades.NotAPdf):
        seal(PNG, "Cachet")


# ---------------------------------------------------------------- timestamps


TSA_TIME = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _tsa_certificate(root: pki.Credentials) -> tuple[asn1_x509.Certificate, asn1_keys.PrivateKeyInfo]:
    root_key = pki.load_private_key(root.private_key_pem, b"tsa root")
    root_certificate = pki.load_certificate(root.certificate_pem)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Horodatage de test")]))
        .issuer_name(root_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(TSA_TIME - timedelta(days=365))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
            asn1_keys.PrivateKeyInfo.load(der_key))


@pytest.fixture(scope="module")
def tsa():
    """A real RFC 3161 authority over HTTP, on localhost."""
    root = pki.create_authority("Racine horodatage de test", passphrase=b"tsa root")
    certificate, key = _tsa_certificate(root)
    stamper = DummyTimeStamper(tsa_cert=certificate, tsa_key=key, fixed_dt=TSA_TIME)
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            requests.append(self.headers.get("Content-Type", ""))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            query = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            reply = stamper.request_tsa_response(query).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}/tsa", "requests": requests, "stamper": stamper}
    server.shutdown()
    server.server_close()


def test_a_timestamped_seal_reports_the_authoritys_time(seal, contract, authority, tsa, tmp_path):
    pdf = seal(contract, "Cachet", certify=True, timestamp_url=tsa["url"])

    assert tsa["requests"] and set(tsa["requests"]) == {"application/timestamp-query"}
    result = verify(pdf, authority)
    assert result.intact and result.sealed_by_cascade and result.problems == []
    [check] = result.signatures
    assert check.timestamped
    assert check.signing_time == TSA_TIME
    assert check.timestamp_authority == "CN=Horodatage de test"
    [report] = pdfsig(pdf, [authority.certificate_pem], tmp_path)
    assert "Signature is Valid" in report and "Certificate is Trusted" in report


def test_timestamped_seals_in_a_row_stay_valid(seal, certified, contract, authority, tsa):
    seal(contract, "Cachet", timestamp_url=tsa["url"])
    before = len(tsa["requests"])

    pdf = seal(seal(certified, "Signataire-1", timestamp_url=tsa["url"]), "Signataire-2", timestamp_url=tsa["url"])

    # Once pyHanko has sized a token from this authority, each seal costs one round trip.
    assert len(tsa["requests"]) - before == 2
    result = verify(pdf, authority)
    assert result.intact and result.sealed_by_cascade
    assert [s.timestamped for s in result.signatures] == [False, True, True]


def test_a_document_timestamp_added_later_breaks_nothing_and_seals_nothing(three_seals, authority, tsa):
    writer = IncrementalPdfFileWriter(io.BytesIO(three_seals))
    pdf = signers.PdfTimeStamper(tsa["stamper"], field_name="Horodatage").timestamp_pdf(writer, "sha256").getvalue()

    result = verify(pdf, authority)

    assert (result.intact, result.sealed_by_cascade, result.problems) == (True, True, [])
    last = result.signatures[-1]
    assert (last.field_name, last.document_timestamp, last.timestamped, last.signing_time) == (
        "Horodatage", True, True, TSA_TIME)
    assert [s.modification for s in result.signatures] == ["FORM_FILLING", "FORM_FILLING", "LTA_UPDATES", "NONE"]


def test_an_unreachable_timestamp_authority_is_a_seal_error(seal, contract):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(pades.SealError, match="horodatage"):
        seal(contract, "Cachet", timestamp_url=f"http://127.0.0.1:{port}/")


# ---------------------------------------------------------------- time


def test_a_seal_stays_valid_after_its_certificate_expires(certified, sealing, authority, monkeypatch):
    in_six_years = datetime.now(UTC) + timedelta(days=6 * 366)
    assert pki.load_certificate(sealing.certificate_pem).not_valid_after_utc < in_six_years
    monkeypatch.setattr(pades, "_now", lambda: in_six_years)

    result = verify(certified, authority)

    assert result.sealed_by_cascade and result.intact


# ---------------------------------------------------------------- certificates


def test_the_authority_is_a_root_that_only_issues_certificates(authority):
    certificate = pki.load_certificate(authority.certificate_pem)

    assert certificate.issuer == certificate.subject
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).critical
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.key_cert_sign, usage.crl_sign, usage.digital_signature) == (True, True, False)
    assert isinstance(certificate.public_key(), rsa.RSAPublicKey) and certificate.public_key().key_size == 3072
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc > timedelta(days=20 * 365)
    assert authority.private_key_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_the_sealing_certificate_names_the_organisation(sealing, authority):
    certificate = pki.load_certificate(sealing.certificate_pem)
    ca = pki.load_certificate(authority.certificate_pem)

    assert pki.subject_name(sealing.certificate_pem) == (
        "CN=Tremplin Coop,organizationIdentifier=NTRFR-123456789,O=Tremplin Coop,C=FR")
    assert certificate.issuer == ca.subject
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    purposes = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(purposes) == {pki.DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION}
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    authority_key_id = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert authority_key_id.key_identifier == ca.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value.digest
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc < timedelta(days=5 * 366)


@pytest.mark.parametrize("siret, identifier", [
    (None, None), ("", None), ("12345678900012", "NTRFR-123456789"), ("123456789", "NTRFR-123456789"),
    ("1234", None), ("inconnu", None),
])
def test_the_organisation_identifier_is_its_siren(authority, siret, identifier):
    credentials = pki.issue_sealing_certificate(authority, CA_PASSPHRASE, organisation="Coop", siret=siret,
                                                passphrase=b"x")
    found = pki.load_certificate(credentials.certificate_pem).subject.get_attributes_for_oid(
        NameOID.ORGANIZATION_IDENTIFIER)

    assert [a.value for a in found] == ([identifier] if identifier else [])


def test_fingerprint_is_the_sha256_of_the_certificate(authority):
    der = pki.load_certificate(authority.certificate_pem).public_bytes(serialization.Encoding.DER)
    expected = hashlib.sha256(der).hexdigest().upper()
    found = pki.fingerprint(authority.certificate_pem)

    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", found)
    assert found.replace(":", "") == expected


def test_a_wrong_passphrase_is_a_pki_error(authority, sealing, seal, contract):
    with pytest.raises(pki.PkiError, match="phrase de passe"):
        pki.issue_sealing_certificate(authority, b"wrong", organisation="Coop", siret=None, passphrase=b"x")
    with pytest.raises(pki.PkiError, match="phrase de passe"):
        seal(contract, "Cachet", passphrase=b"wrong")


def test_a_damaged_pem_is_a_pki_error(authority):
    with pytest.raises(pki.PkiError):
        pki.fingerprint(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(pki.PkiError):
        pki.issue_sealing_certificate(pki.Credentials(authority.certificate_pem, b"not a key"), CA_PASSPHRASE,
                                      organisation="Coop", siret=None, passphrase=b"x")
    with pytest.raises(pki.PkiError):
        pades.verify(b"%PDF-1.7\n%%EOF", trust_roots=[b"garbage"])
