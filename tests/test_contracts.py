"""Contracts around the signature: templates edited and versioned, amendments listing what changes,
a subscription template changed for all its subscriptions, supporting documents, imported
conventions kept for the record, reminders, expiry and alerts before a convention ends."""

import html
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from cascade.contracts import actions as contracts
from cascade.contracts.demo import DEMO_BROWSER, _vacant_spaces
from cascade.contracts.models import Contract, ContractStatus, DocumentTemplate, EndNotice
from cascade.places.models import Place
from cascade.signing import actions as signing
from cascade.signing.models import Party, RequestState, SignerState
from cascade.subscriptions import actions as subscriptions
from cascade.subscriptions import documents
from cascade.subscriptions.models import (
    ComponentKind,
    DocumentStatus,
    Organisation,
    RequiredDocument,
    Subscription,
    SubscriptionStatus,
    SubscriptionTemplate,
    VersionStatus,
)
from conftest import body_of

ATELIERS = "Les Ateliers du Canal"


def _paris(year: int, month: int, day: int):
    """Noon of that day in Paris, as an aware datetime."""
    return timezone.make_aware(datetime(year, month, day, 12))


def _text(pdf: bytes) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def _new(operator, alice, *, template=None, rent="300.00", name="Atelier Lumen", start=date(2026, 12, 1)):
    place = Place.objects.get(organisation=operator, name=ATELIERS)
    occupant = Organisation.objects.create(name=name, slug=name.lower().replace(" ", "-"), kind="occupant",
                                           operator=operator, email="contact@lumen.example.org")
    terms = subscriptions.TermsInput(entry_date=start, exit_date=None, frequency="monthly", term="advance",
                                     resources=_vacant_spaces(place, start, 1),
                                     amounts={ComponentKind.RENT: Decimal(rent), ComponentKind.FLUIDS: Decimal("30")})
    return subscriptions.create_subscription(operator, subscriber=occupant, place=place, template=template,
                                             terms=terms, acting_user=alice)


def _sign_all(request) -> None:
    for signer in request.signers.order_by("order"):
        signer.refresh_from_db()
        signing.verify_code(signer, signing.send_code(signer, DEMO_BROWSER), DEMO_BROWSER)
        signing.sign(signer, typed_name=signer.name, consent=True, client=DEMO_BROWSER)


def _send(contract, occupant_email="ines@lumen.example.org"):
    return contracts.send_for_signature(contract, [
        signing.SignerSpec("Inès Barbier", occupant_email, Party.OCCUPANT, "Gérante",
                           contract.subscription.subscriber),
        signing.SignerSpec("Alice Martin", "alice@tremplin.example.org", Party.OPERATOR, "", contract.organisation)])


# Templates ---------------------------------------------------------------------------------------


def test_each_kind_has_a_default_template_and_edits_are_versioned(alice_client, operator):
    page = alice_client.get(reverse("templates", args=[operator.pk]))
    assert page.status_code == 200
    templates = {t.kind: t for t in DocumentTemplate.objects.filter(organisation=operator)}
    assert sorted(templates) == ["adhesion", "avenant", "convention_precaire", "convention_temporaire"]
    template = templates["convention_temporaire"]
    body = template.latest.body + "\n\n## Article final\n\nLe lieu s'appelle {{ lieu.nom }}.\n"
    response = alice_client.post(reverse("document_template", args=[template.pk]), {"body": body})
    assert response.status_code == 302
    assert list(template.versions.values_list("number", flat=True)) == [2, 1]
    # A broken template is refused with its problem and nothing is saved.
    response = alice_client.post(reverse("document_template", args=[template.pk]),
                                 {"body": body + "{% if occupant.nom %}sans fin\n"})
    assert response.status_code == 400
    assert template.versions.count() == 2
    response = alice_client.post(reverse("document_template", args=[template.pk]),
                                 {"body": body + "{{ occupant.nmo }}\n"})
    assert response.status_code == 400 and "occupant.nmo" in response.content.decode()
    assert template.versions.count() == 2


def test_the_live_preview_renders_a_real_subscription(alice_client, operator):
    template = contracts.ensure_default_templates(operator)["convention_temporaire"]
    subscription = Subscription.objects.filter(organisation=operator, place__name=ATELIERS).order_by("pk").first()
    response = alice_client.post(reverse("document_template_preview", args=[template.pk]),
                                 {"body": "# Titre\n\nOccupant : **{{ occupant.nom }}**\n\n::ressources\n",
                                  "subscription": subscription.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert subscription.subscriber.name in page
    for resource in subscription.current_version.resources.all():
        assert resource.reference in page
    pdf = alice_client.post(reverse("document_template_preview", args=[template.pk]) + "?format=pdf",
                            {"body": template.latest.body})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_convention_states_the_parties_spaces_amounts_and_vat(operator, site):
    subscription, convention = _new(operator, site["alice"], rent="1250.50")
    text = _text(contracts.contract_pdf(convention))
    space = subscription.latest_version.resources.get()
    assert "Convention d'occupation temporaire" in text or "Convention d’occupation temporaire" in text
    assert "Atelier Lumen" in text and operator.name in text and space.reference in text
    assert "1 250,50 €" in text and "TVA au taux de 20 % en sus" in text
    assert "PROJET" in text


def test_a_precarious_convention_states_its_circumstances(operator, site):
    template = SubscriptionTemplate.objects.create(organisation=operator, name="Précaire",
                                                   contract_kind="convention_precaire")
    place = Place.objects.get(organisation=operator, name=ATELIERS)
    occupant = Organisation.objects.create(name="Compagnie X", slug="compagnie-x", kind="occupant", operator=operator)
    terms = subscriptions.TermsInput(
        entry_date=date(2026, 12, 1), exit_date=date(2027, 3, 31), frequency="monthly", term="advance",
        resources=_vacant_spaces(place, date(2026, 12, 1), 1), amounts={ComponentKind.RENT: Decimal("200")},
        circumstances="Démolition du bâtiment prévue au printemps 2027 (permis délivré le 12/09/2026).")
    _subscription, convention = subscriptions.create_subscription(operator, subscriber=occupant, place=place,
                                                                  template=template, terms=terms)
    text = _text(contracts.contract_pdf(convention))
    assert convention.title == "Convention d'occupation précaire"
    assert "L145-5-1" in text and "Démolition du bâtiment prévue au printemps 2027" in text


# Amendments -----------------------------------------------------------------------------------


def test_an_amendment_lists_what_changes_and_nothing_else(operator, site):
    subscription, convention = _new(operator, site["alice"])
    _sign_all(_send(convention))
    subscription.refresh_from_db()
    terms = subscriptions.terms_from_version(subscription.current_version)
    terms.effective_from = date(2027, 1, 1)
    terms.exit_date = date(2027, 3, 31)
    terms.amounts[ComponentKind.RENT] = Decimal("330.00")
    amendment = subscriptions.propose_version(subscription, terms)
    assert amendment.changes == [
        {"objet": "Date de sortie", "ancien": "sans date (jusqu'à nouvel ordre)", "nouveau": "31/03/2027"},
        {"objet": "Redevance d'occupation (mensuelle HT)", "ancien": "300,00\u00a0€", "nouveau": "330,00\u00a0€"}]
    text = _text(contracts.contract_pdf(amendment))
    assert "Avenant n° 1" in text and "300,00 €" in text and "330,00 €" in text and "01/01/2027" in text
    # One change at a time, and a change that changes nothing is refused.
    with pytest.raises(subscriptions.SubscriptionError, match="encore en préparation"):
        subscriptions.propose_version(subscription, terms)
    contracts.discard_draft(amendment)
    same = subscriptions.terms_from_version(subscription.current_version)
    same.effective_from = date(2027, 1, 1)
    with pytest.raises(subscriptions.SubscriptionError, match="Rien ne change"):
        subscriptions.propose_version(subscription, same)
    # The next one is avenant n° 1 again: the discarded draft took no number.
    again = subscriptions.propose_version(subscription, terms)
    assert again.amendment_number == 1


def test_a_space_already_held_is_refused_with_who_holds_it(operator, site):
    subscription, _convention = _new(operator, site["alice"])
    space = subscription.latest_version.resources.get()
    place = space.place
    occupant = Organisation.objects.create(name="Autre", slug="autre", kind="occupant", operator=operator)
    terms = subscriptions.TermsInput(entry_date=date(2027, 1, 1), exit_date=None, frequency="monthly",
                                     term="advance", resources=[space], amounts={ComponentKind.RENT: Decimal("10")})
    with pytest.raises(subscriptions.SubscriptionError, match=f"{space.reference} : déjà occupé par Atelier Lumen"):
        subscriptions.create_subscription(operator, subscriber=occupant, place=place, template=None, terms=terms)


def test_changing_a_template_proposes_an_amendment_to_each_subscription(alice_client, operator, site):
    template = SubscriptionTemplate.objects.filter(organisation=operator, name__startswith=ATELIERS).order_by(
        "pk").first()
    url = reverse("subscription_template_terms", args=[template.pk])
    data = {"effective_from": "2027-01-01", "frequency": "quarterly", "term": "advance", "fluids_per_m2": "2,00"}
    preview = alice_client.post(url, data)
    plan = preview.context["plan"]
    with_changes = [item for item in plan if item.changes]
    assert with_changes and preview.context["n_amendments"] == len(with_changes)
    first = with_changes[0]
    surface = sum(r.surface for r in first.subscription.current_version.resources.all())
    assert ("Périodicité de facturation", "mensuelle", "trimestrielle") in [
        (c.item, c.old, c.new) for c in first.changes]
    fluids = [c for c in first.changes if c.item.startswith("Provision")]
    assert not fluids or fluids[0].new == f"{surface * 2:.2f}".replace(".", ",") + "\u00a0€"
    assert Contract.objects.filter(subscription__template=template, kind="avenant").count() == 0
    response = alice_client.post(url, {**data, "confirm": "yes"})
    assert response.status_code == 302
    amendments = Contract.objects.filter(subscription__template=template, kind="avenant")
    assert amendments.count() == len(with_changes)
    assert all(a.status == ContractStatus.DRAFT and a.version.effective_from >= date(2027, 1, 1) for a in amendments)
    template.refresh_from_db()
    assert (template.frequency, template.fluids_per_m2) == ("quarterly", Decimal("2.00"))


# Supporting documents ---------------------------------------------------------------------------


@pytest.fixture
def with_insurance(operator):
    insurance = RequiredDocument.objects.create(organisation=operator, name="Attestation d'assurance",
                                                formats=["pdf", "png"], max_size_mb=1)
    template = SubscriptionTemplate.objects.create(organisation=operator, name="Avec assurance")
    template.required_documents.add(insurance)
    return template, insurance


def test_documents_are_required_before_signing_and_before_coming_into_force(operator, site, with_insurance, inbox,
                                                                            django_capture_on_commit_callbacks):
    template, insurance = with_insurance
    subscription, convention = _new(operator, site["alice"], template=template)
    with django_capture_on_commit_callbacks(execute=True):
        request = _send(convention)
    occupant = request.signers.get(order=1)
    signing.verify_code(occupant, signing.send_code(occupant, DEMO_BROWSER), DEMO_BROWSER)
    with pytest.raises(signing.SigningError, match="Attestation d'assurance"):
        signing.sign(occupant, typed_name="Inès Barbier", consent=True, client=DEMO_BROWSER)

    # Wrong type, too large, empty: each refused with why, nothing kept.
    for name, data, message in [
            ("statuts.docx", b"PK\x03\x04 word", "n’est pas un fichier PDF, PNG"),
            ("photo.jpg", b"\xff\xd8\xff\xe0 jpeg", "n’est pas un fichier PDF, PNG"),
            ("gros.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024), "la limite pour Attestation d'assurance est de 1 Mo"),
            ("vide.pdf", b"", "est vide")]:
        with pytest.raises(documents.DocumentError) as error:
            documents.upload_document(subscription, insurance, SimpleUploadedFile(name, data), uploaded_by="t")
        assert message in str(error.value), str(error.value)
    assert subscription.documents.count() == 0

    first = documents.upload_document(subscription, insurance, SimpleUploadedFile("a.pdf", b"%PDF-1.7\n1"),
                                      uploaded_by="Inès")
    with django_capture_on_commit_callbacks(execute=True):
        _sign_all(request)
    subscription.refresh_from_db()
    # Signed, but the document is not validated: not in force, not billed.
    assert subscription.status == SubscriptionStatus.PENDING
    assert subscription.latest_version.status == VersionStatus.SIGNED
    inbox.messages.clear()
    with pytest.raises(documents.DocumentError, match="Dites pourquoi le document est refusé"):
        documents.review_document(first, valid=False, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        documents.review_document(first, valid=False, reason="Attestation de l'an dernier")
    # The occupant's signer is told why, with a link to send another.
    message = next(m for rcpt, m in inbox.messages if rcpt == ["ines@lumen.example.org"])
    assert "Attestation de l'an dernier" in body_of(message)
    link = re.search(r"https?://\S+(/s/\S+/)", body_of(message)).group(1)
    page = html.unescape(Client().get(link).content.decode())
    assert "Attestation de l'an dernier" in page
    second = Client().post(link + "documents/", {"requirement": insurance.pk,
                                                 "file": SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\nxx")})
    assert second.status_code == 302
    latest = subscription.documents.order_by("-uploaded_at", "-pk").first()
    assert (latest.original_name, latest.status, latest.content_type) == ("b.png", DocumentStatus.PENDING,
                                                                          "image/png")
    documents.review_document(latest, valid=True)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_version.number == 1
    assert "document_uploaded" in list(request.events.values_list("kind", flat=True))


# Imported conventions --------------------------------------------------------------------------


def test_imported_subscriptions_keep_their_paper_convention_on_record(alice_client, operator):
    subscription = Subscription.objects.filter(organisation=operator).order_by("pk").first()
    contract = Contract.objects.get(subscription=subscription)
    assert contract.status == ContractStatus.SIGNED_OUTSIDE
    assert subscription.status == SubscriptionStatus.ACTIVE
    response = alice_client.get(reverse("contract_pdf", args=[contract.pk]))
    text = _text(response.content)
    assert "Convention signée hors Cascade (sur papier)" in text
    assert subscription.subscriber.name in text
    # Drawn once, then the same file.
    assert alice_client.get(reverse("contract_pdf", args=[contract.pk])).content == response.content


# Reminders, expiry, alerts ---------------------------------------------------------------------


def test_tick_reminds_the_signer_whose_turn_it_is_then_expires_the_request(operator, site, inbox,
                                                                           django_capture_on_commit_callbacks):
    _subscription, convention = _new(operator, site["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        request = _send(convention)
    inbox.messages.clear()

    def tick() -> dict:
        # As of DEMO_DAY, up to which the demo is billed: this pass has nothing to issue.
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("tick", "--json", "--today", "2026-11-30", stdout=out)
        return json.loads(out.getvalue())

    assert tick()["reminded"] == 0
    request.signers.filter(order=1).update(last_notified_at=_paris(2026, 11, 26))
    assert tick()["reminded"] == 1
    assert tick()["reminded"] == 0
    to_signer = [m for rcpt, m in inbox.messages if rcpt == ["ines@lumen.example.org"]]
    assert len(to_signer) == 1
    reminder = to_signer[0]
    assert reminder["Subject"].strip().startswith("Relance")
    assert "/s/" in body_of(reminder)
    type(request).objects.filter(pk=request.pk).update(expires_at=_paris(2026, 11, 29))
    assert tick()["expired"] == 1
    request.refresh_from_db()
    assert request.events.order_by("-seq").first().kind == "expired"
    convention.refresh_from_db()
    assert (request.state, convention.status) == (RequestState.EXPIRED, ContractStatus.EXPIRED)
    assert request.signers.get(order=1).state == SignerState.INVITED


def test_tick_acts_as_of_the_day_it_is_given(operator, site, django_capture_on_commit_callbacks):
    """`--today` is the day the whole pass acts on: a request expiring before it expires."""
    _subscription, convention = _new(operator, site["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        request = _send(convention)
    type(request).objects.filter(pk=request.pk).update(expires_at=_paris(2026, 11, 20))
    out = io.StringIO()
    call_command("tick", "--json", "--today", "2026-11-19", stdout=out)
    assert json.loads(out.getvalue())["expired"] == 0
    call_command("tick", "--json", "--today", "2026-11-21", stdout=io.StringIO())
    request.refresh_from_db()
    assert request.state == RequestState.EXPIRED


def test_conventions_ending_soon_are_on_the_dashboard_and_emailed_once(alice_client, operator, site, inbox):
    # École Voltaire's owner convention ends on 31/12/2026, within 90 days of DEMO_DAY.
    page = alice_client.get(reverse("dashboard", args=[operator.pk]) + "?on=2026-11-30").content.decode()
    assert "Conventions se terminant d’ici 90 jours" in page or "Conventions se terminant d'ici 90 jours" in page
    assert "École Voltaire" in page
    out = io.StringIO()
    call_command("tick", "--json", "--today", "2026-11-30", stdout=out)
    sent = json.loads(out.getvalue())["end_notices"]
    assert sent == EndNotice.objects.filter(organisation=operator).count() > 0
    subjects = [m["Subject"] for rcpt, m in inbox.messages]
    assert any("École Voltaire" in s and "31/12/2026" in s for s in subjects)
    out = io.StringIO()
    call_command("tick", "--json", "--today", "2026-11-30", stdout=out)
    assert json.loads(out.getvalue())["end_notices"] == 0


def test_the_demo_takes_its_documents_through_the_signing_flow(operator, site):
    from cascade.contracts.demo import sign_demo_conventions

    made = sign_demo_conventions(operator, site["alice"], date(2026, 11, 30))
    for contract in made:
        contract.refresh_from_db()
    assert [(c.kind, c.status) for c in made] == [
        ("convention_temporaire", ContractStatus.SIGNED), ("avenant", ContractStatus.SIGNED),
        ("convention_temporaire", ContractStatus.SIGNED), ("avenant", ContractStatus.REFUSED),
        ("convention_temporaire", ContractStatus.TO_SIGN)]
    first, raised, second, refused, waiting = made
    assert first.subscription.status == SubscriptionStatus.ACTIVE
    assert first.subscription.current_version.number == 2  # the signed amendment is in force
    assert raised.changes == [{"objet": "Redevance d'occupation (mensuelle HT)", "ancien": "420,00\u00a0€",
                               "nouveau": "441,00\u00a0€"}]
    assert second.subscription.current_version.number == 1  # the refused amendment is not
    assert refused.signature_request.reason.startswith("Nous ne pouvons pas")
    assert waiting.subscription.status == SubscriptionStatus.PENDING
    for contract in (first, raised, second):
        kinds = list(contract.signature_request.events.values_list("kind", flat=True))
        assert kinds[:4] == ["created", "sent", "opened", "document_viewed"] and kinds[-1] == "completed"
        assert signing.chain_problems(contract.signature_request) == []
