"""The signed PDF as anyone receives it: checked by poppler's pdfsig (trusting Cascade's CA through an
NSS database), by pyHanko through `cascade verify_pdf` and the public verification page; altered
or foreign files are reported as such; `cascade export_signed` hands them out with the CA."""

import io
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from pypdf import PdfReader

import conftest
from cascade.accounts.models import OrganisationKind
from cascade.contracts import actions as contracts
from cascade.contracts.demo import DEMO_BROWSER, _vacant_spaces
from cascade.places.models import Place
from cascade.signing import actions as signing
from cascade.signing import keys, pades, pki
from cascade.signing.models import Party, SignatureRequest
from cascade.subscriptions import actions as subscriptions
from cascade.subscriptions.models import ComponentKind, Organisation


def pdfsig_report(pdf: Path, workdir: Path) -> str:
    """What poppler's pdfsig says of the file, trusting Cascade's authorities."""
    return conftest.pdfsig_report(pdf, keys.trust_roots(), workdir)


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def signed_request(operator, alice) -> SignatureRequest:
    """A convention signed by its two signers through the actions."""
    place = Place.objects.get(organisation=operator, name="Les Ateliers du Canal")
    occupant = Organisation.objects.create(name="Atelier Lumen", slug="atelier-lumen", kind=OrganisationKind.OCCUPANT,
                                           operator=operator)
    terms = subscriptions.TermsInput(entry_date=date(2026, 12, 1), exit_date=None, frequency="monthly",
                                     term="advance", resources=_vacant_spaces(place, date(2026, 12, 1), 1),
                                     amounts={ComponentKind.RENT: 420})
    _subscription, convention = subscriptions.create_subscription(operator, subscriber=occupant, place=place,
                                                                  template=None, terms=terms, acting_user=alice)
    request = contracts.send_for_signature(convention, [
        signing.SignerSpec("Inès Barbier", "ines@lumen.example.org", Party.OCCUPANT, "Gérante", occupant),
        signing.SignerSpec("Alice Martin", alice.email, Party.OPERATOR, "Co-gérante", operator)], acting_user=alice)
    for signer in request.signers.order_by("order"):
        signer.refresh_from_db()
        signing.verify_code(signer, signing.send_code(signer, DEMO_BROWSER), DEMO_BROWSER)
        signing.sign(signer, typed_name=signer.name, consent=True, client=DEMO_BROWSER)
    request.refresh_from_db()
    return request


@pytest.fixture
def signed(operator, site, tmp_path) -> tuple[SignatureRequest, Path]:
    request = signed_request(operator, site["alice"])
    path = tmp_path / "signed.pdf"
    with request.signed_document.open("rb") as f:
        path.write_bytes(f.read())
    return request, path


def _tampered(pdf: bytes) -> bytes:
    """The same file with one word of the document changed inside the signed bytes."""
    position = pdf.index(b"/Contents")
    data = bytearray(pdf)
    # Flip a byte of the first page's content stream reference area (inside the signed range).
    data[position + 12] = ord("9") if data[position + 12] != ord("9") else ord("8")
    return bytes(data)


def test_poppler_and_pyhanko_find_every_seal_valid_and_trusted(signed, tmp_path):
    _request, path = signed
    report = pdfsig_report(path, tmp_path)
    assert report.count("Signature Validation: Signature is Valid.") == 1, report
    assert report.count("Certificate Validation: Certificate is Trusted.") == 1, report
    assert "Signer Certificate Common Name: Collectif Tremplin" in report
    assert "Total document signed" in report and "Not total document signed" not in report
    out = io.StringIO()
    call_command("verify_pdf", str(path), stdout=out)
    text = out.getvalue()
    assert "sealed by Cascade and intact (1 seal(s))" in text
    assert "signed by Inès Barbier <ines@lumen.example.org>" in text
    assert "signed by Alice Martin <alice@tremplin.example.org>" in text


def test_the_signed_pdf_carries_the_evidence_page_and_the_original(signed):
    request, path = signed
    reader = PdfReader(path)
    with request.document.open("rb") as f:
        original = f.read()
    assert len(reader.pages) > len(PdfReader(io.BytesIO(original)).pages)
    evidence = " ".join(reader.pages[-1].extract_text().split())
    assert request.document_sha256 in evidence.replace(" ", "") or request.document_sha256[:16] in evidence
    assert "Inès Barbier" in evidence
    attachments = reader.attachments
    assert attachments["document-original.pdf"][0] == original
    assert b'"events"' in attachments["journal-de-preuve.json"][0]


def test_an_altered_pdf_is_reported_altered_by_the_command_and_the_page(signed, tmp_path):
    request, path = signed
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(_tampered(path.read_bytes()))
    with pytest.raises(CommandError, match="ALTERED"):
        call_command("verify_pdf", str(altered), stdout=io.StringIO())
    response = Client().post(reverse("verify_pdf"), {"pdf": SimpleUploadedFile("altered.pdf", altered.read_bytes())})
    assert response.status_code == 200
    assert "MODIFIÉ" in response.content.decode()
    response = Client().post(reverse("verify_pdf"), {"pdf": SimpleUploadedFile("signed.pdf", path.read_bytes())})
    page = response.content.decode()
    assert "Scellé par Cascade et intact" in page and request.reference in page


def test_a_file_that_is_not_a_pdf_or_not_cascades_is_refused(signed, tmp_path):
    _request, path = signed
    text = tmp_path / "notes.pdf"
    text.write_text("ceci n'est pas un PDF")
    with pytest.raises(CommandError, match="not a PDF document"):
        call_command("verify_pdf", str(text), stdout=io.StringIO())
    response = Client().post(reverse("verify_pdf"), {"pdf": SimpleUploadedFile("notes.pdf", b"GIF89a...")})
    assert response.status_code == 400
    assert "n’est pas un document PDF" in response.content.decode()
    # A PDF sealed by another authority: intact, but not Cascade's.
    other = pki.create_authority("Autre AC", passphrase=b"x")
    seal = pki.issue_sealing_certificate(other, b"x", organisation="Ailleurs", siret=None, passphrase=b"y")
    foreign = tmp_path / "foreign.pdf"
    foreign.write_bytes(pades.seal(path.read_bytes(), credentials=seal, passphrase=b"y",
                                   chain=[other.certificate_pem], field_name="Autre", signer_name="Ailleurs",
                                   reason="test"))
    with pytest.raises(CommandError, match="NOT CASCADE'S"):
        call_command("verify_pdf", str(foreign), stdout=io.StringIO())


def test_export_signed_writes_every_signed_pdf_and_the_ca(signed, tmp_path):
    request, path = signed
    out = tmp_path / "export"
    stdout = io.StringIO()
    call_command("export_signed", "--out", str(out), stdout=stdout)
    exported = out / request.organisation.slug / f"{request.reference}.pdf"
    assert exported.read_bytes() == path.read_bytes()
    assert (out / "ca.pem").read_bytes() == b"".join(keys.trust_roots())
    assert f"{SignatureRequest.objects.filter(state='signed').count()} signed PDF(s)" in stdout.getvalue()
    # Anyone can check the exported file with the exported CA alone.
    assert "Signature is Valid" in pdfsig_report(exported, tmp_path)


def test_a_later_seal_leaves_the_first_one_valid(signed, tmp_path, operator):
    """A counter-seal added afterwards (another organisation, a timestamp) is an incremental update
    the certification seal allows: both verify, the first one unchanged."""
    _request, path = signed
    identity = keys.sealing_identity(operator)
    countersigned = tmp_path / "countersigned.pdf"
    chain = [identity.authority.certificate_pem.encode()]
    countersigned.write_bytes(pades.seal(path.read_bytes(), credentials=keys.credentials(identity),
                                         passphrase=keys.passphrase(), chain=chain, field_name="Contre-cachet",
                                         signer_name=operator.name, reason="Archivage"))
    result = pades.verify(countersigned.read_bytes(), trust_roots=keys.trust_roots())
    assert result.intact and result.sealed_by_cascade, result.problems
    assert [(s.field_name, s.intact, s.valid, s.docmdp_ok) for s in result.signatures] == [
        ("Cachet-Cascade", True, True, True), ("Contre-cachet", True, True, True)]
    assert pdfsig_report(countersigned, tmp_path).count("Signature Validation: Signature is Valid.") == 2


def test_an_unsigned_update_appended_after_the_seal_is_reported(signed, tmp_path):
    """Even a harmless-looking change (the title in the metadata) made after the seal is a change."""
    from pypdf import PdfWriter

    _request, path = signed
    writer = PdfWriter(str(path), incremental=True)
    writer.add_metadata({"/Title": "Tampered"})
    updated = tmp_path / "updated.pdf"
    with updated.open("wb") as f:
        writer.write(f)
    result = pades.verify(updated.read_bytes(), trust_roots=keys.trust_roots())
    assert not result.intact
    assert any("après la dernière signature « Cachet-Cascade »" in p for p in result.problems)
    with pytest.raises(CommandError, match="ALTERED"):
        call_command("verify_pdf", str(updated), stdout=io.StringIO())
