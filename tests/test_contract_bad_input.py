"""Bad input around contracts and signatures, as a tester found it: each gets a clear answer and
changes nothing, and none is a server error."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from test_contracts import _new, _send, _sign_all

from cascade.contracts import actions as contracts
from cascade.contracts.demo import DEMO_BROWSER
from cascade.contracts.models import Contract
from cascade.contracts.rendering import check_template, render_text
from cascade.signing import actions as signing
from cascade.signing.models import SignerState
from cascade.signing.tokens import link_token
from cascade.subscriptions import actions as subscriptions
from cascade.subscriptions import documents
from cascade.subscriptions.models import (
    ComponentKind,
    DocumentStatus,
    RequiredDocument,
    SubscriptionStatus,
    SubscriptionTemplate,
)


def test_a_subscription_without_fluids_is_created(alice_client, operator):
    from test_signing_flow import ENTRY, OCCUPANT_EMAIL

    from cascade.contracts.demo import _vacant_spaces
    from cascade.places.models import Place

    space = _vacant_spaces(Place.objects.get(organisation=operator, name="Les Ateliers du Canal"), ENTRY, 1)[0]
    response = alice_client.post(reverse("new_subscription", args=[operator.pk]), {
        "new_name": "Sans Fluides", "new_email": OCCUPANT_EMAIL, "resources": [space.pk],
        "entry_date": ENTRY.isoformat(), "rent": "300", "fluids": "", "frequency": "monthly", "term": "advance"})
    assert response.status_code == 302
    response = alice_client.post(reverse("new_subscription", args=[operator.pk]), {
        "new_name": "Négatif", "resources": [space.pk], "entry_date": ENTRY.isoformat(), "rent": "-5",
        "frequency": "monthly", "term": "advance"})
    assert response.status_code == 400 and "Les montants ne peuvent pas être négatifs" in response.content.decode()


def test_a_space_cannot_be_booked_twice_while_an_amendment_is_only_a_draft(operator, site):
    first, convention = _new(operator, site["alice"])
    _sign_all(_send(convention))
    first.refresh_from_db()
    # A draft amendment would end the occupancy on 20/12/2026: until signed, the space stays held.
    terms = subscriptions.terms_from_version(first.current_version)
    terms.exit_date, terms.effective_from = date(2026, 12, 20), date(2026, 12, 1)
    draft = subscriptions.propose_version(first, terms)
    space = first.current_version.resources.get()
    other = subscriptions.TermsInput(entry_date=date(2027, 1, 1), exit_date=None, frequency="monthly",
                                     term="advance", resources=[space], amounts={ComponentKind.RENT: Decimal(10)})
    occupant = first.subscriber.__class__.objects.create(name="QA Beta", slug="qa-beta", kind="occupant",
                                                         operator=operator)
    with pytest.raises(subscriptions.SubscriptionError, match="déjà occupé par Atelier Lumen"):
        subscriptions.create_subscription(operator, subscriber=occupant, place=space.place, template=None,
                                          terms=other)
    # Once the shorter occupancy is signed, the space is free from 21/12/2026.
    _sign_all(_send(draft))
    _second, later = subscriptions.create_subscription(operator, subscriber=occupant, place=space.place,
                                                       template=None, terms=other)
    assert later.status == "draft"


def test_sending_checks_again_that_the_spaces_are_free(operator, site):
    first, convention = _new(operator, site["alice"])
    space = first.latest_version.resources.get()
    # Someone takes the space behind the draft's back (the admin, an import): sending is refused.
    version = first.latest_version
    version.status = "cancelled"
    version.save()
    occupant = first.subscriber.__class__.objects.create(name="QA Gamma", slug="qa-gamma", kind="occupant",
                                                         operator=operator)
    subscriptions.create_subscription(operator, subscriber=occupant, place=space.place, template=None,
                                      terms=subscriptions.terms_from_version(version))
    version.status = "draft"
    version.save()
    with pytest.raises(contracts.ContractError, match="déjà occupé par QA Gamma"):
        _send(convention)
    convention.refresh_from_db()
    assert convention.status == "draft" and convention.signature_request is None


def test_a_precarious_agreement_needs_its_circumstances(operator, site):
    template = SubscriptionTemplate.objects.create(organisation=operator, name="Précaire",
                                                   contract_kind="convention_precaire")
    with pytest.raises(subscriptions.SubscriptionError, match="L145-5-1"):
        _new(operator, site["alice"], template=template)


def test_an_effective_date_after_the_occupancy_is_refused(operator, site):
    subscription, convention = _new(operator, site["alice"])
    _sign_all(_send(convention))
    subscription.refresh_from_db()
    terms = subscriptions.terms_from_version(subscription.current_version)
    terms.amounts[ComponentKind.RENT] = Decimal("310")
    terms.effective_from = date(2099, 1, 1)
    with pytest.raises(subscriptions.SubscriptionError, match="période d’occupation"):
        subscriptions.propose_version(subscription, terms)


def test_a_refused_amendment_keeps_its_number(operator, site):
    subscription, convention = _new(operator, site["alice"])
    _sign_all(_send(convention))
    subscription.refresh_from_db()
    terms = subscriptions.terms_from_version(subscription.current_version)
    terms.amounts[ComponentKind.RENT], terms.effective_from = Decimal("320"), date(2027, 1, 1)
    first = subscriptions.propose_version(subscription, terms)
    request = _send(first)
    signer = request.signers.get(order=1)
    signing.verify_code(signer, signing.send_code(signer, DEMO_BROWSER), DEMO_BROWSER)
    signing.refuse(signer, reason="Non", client=DEMO_BROWSER)
    again = subscriptions.propose_version(subscription, terms)
    assert (first.amendment_number, again.amendment_number) == (1, 2)
    assert again.reference.endswith("-A2")


@pytest.mark.parametrize("token", ["１２-abc-def", "9" * 5000 + "-a-b", "1-a", "abc", "1-" + "a" * 32 + "-x"])
def test_crafted_signing_links_get_a_clear_page(token):
    response = Client().get(f"/s/{token}/")
    assert response.status_code == 404
    assert "Ce lien n’est pas valide" in response.content.decode()


def test_odd_ids_in_forms_are_refused_not_errors(alice_client, operator, site):
    _subscription, convention = _new(operator, site["alice"])
    request = _send(convention)
    assert alice_client.post(reverse("signature_renew_link", args=[request.pk]), {"signer": "abc"}).status_code == 302
    template = contracts.ensure_default_templates(operator)["convention_temporaire"]
    response = alice_client.post(reverse("document_template_preview", args=[template.pk]) + "?format=pdf",
                                 {"body": template.latest.body, "subscription": "²"})
    assert response.status_code == 200
    signer = request.signers.get(order=1)
    path = reverse("sign_upload", args=[link_token(signer.pk, signer.link_nonce)])
    response = Client().post(path, {"requirement": "1.5", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.7\n")})
    assert response.status_code == 302


def test_a_typed_name_padded_beyond_its_length_or_a_long_refusal_is_refused(operator, site):
    _subscription, convention = _new(operator, site["alice"])
    request = _send(convention)
    signer = request.signers.get(order=1)
    signing.verify_code(signer, signing.send_code(signer, DEMO_BROWSER), DEMO_BROWSER)
    with pytest.raises(signing.SigningError, match="Inès Barbier"):
        signing.sign(signer, typed_name="Inès" + "\u0301" * 300 + " Barbier", consent=True, client=DEMO_BROWSER)
    with pytest.raises(signing.SigningError, match="2000"):
        signing.refuse(signer, reason="x" * 2001, client=DEMO_BROWSER)
    signer.refresh_from_db()
    assert signer.state == SignerState.INVITED
    # Spaces typed inside the code do not cost an attempt.
    code = signing.send_code(signer, DEMO_BROWSER)
    signing.verify_code(signer, f" {code[:3]} {code[3:]} ", DEMO_BROWSER)
    signer.refresh_from_db()
    assert signer.verified_at is not None and signer.failed_attempts == 0


def test_a_locked_link_cannot_upload_documents(operator, site):
    insurance = RequiredDocument.objects.create(organisation=operator, name="Assurance", formats=["pdf"])
    template = SubscriptionTemplate.objects.create(organisation=operator, name="Avec pièce")
    template.required_documents.add(insurance)
    subscription, convention = _new(operator, site["alice"], template=template)
    request = _send(convention)
    signer = request.signers.get(order=1)
    signer.locked_at = timezone.now()
    signer.save()
    path = reverse("sign_upload", args=[link_token(signer.pk, signer.link_nonce)])
    Client().post(path, {"requirement": insurance.pk, "file": SimpleUploadedFile("a.pdf", b"%PDF-1.7\n")})
    assert subscription.documents.count() == 0


def test_the_latest_file_decides_whether_a_document_is_valid(operator, site):
    insurance = RequiredDocument.objects.create(organisation=operator, name="Assurance", formats=["pdf"])
    template = SubscriptionTemplate.objects.create(organisation=operator, name="Avec pièce")
    template.required_documents.add(insurance)
    subscription, convention = _new(operator, site["alice"], template=template)
    old = documents.upload_document(subscription, insurance, SimpleUploadedFile("a.pdf", b"%PDF-1.7\n1"),
                                    uploaded_by="t")
    new = documents.upload_document(subscription, insurance, SimpleUploadedFile("b.pdf", b"%PDF-1.7\n2"),
                                    uploaded_by="t")
    _sign_all(_send(convention))
    documents.review_document(new, valid=False, reason="Illisible")
    documents.review_document(old, valid=True)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PENDING
    with pytest.raises(documents.DocumentError, match="n’est pas un fichier PDF"):
        documents.upload_document(subscription, insurance, SimpleUploadedFile("x.pdf", b"%PDF-hello"),
                                  uploaded_by="t")
    assert subscription.documents.filter(status=DocumentStatus.PENDING).count() == 0


@pytest.mark.parametrize("body, problem", [
    ('{% for a in "xxxxxxxxxx" %}{% for b in "xxxxxxxxxx" %}.{% endfor %}{% endfor %}', "pas un texte"),
    ("{% for a in ressources %}{% for b in ressources %}{% for c in ressources %}.{% endfor %}{% endfor %}"
     "{% endfor %}", "au plus 2 boucles"),
    ("Bonjour {{ occupant.nom\n", "« {{ » sans « }} »"),
    ("{{ ressources }}", "« ressources » est une liste"),
    ("{% load static %}", "load"),
    ("{% include 'base.html' %}", "include"),
    ("{{ settings.SECRET_KEY }}", "variable inconnue « settings.SECRET_KEY »"),
])
def test_templates_that_would_be_costly_or_wrong_are_refused(body, problem):
    problems = check_template(body)
    assert any(problem in p for p in problems), problems


def test_a_template_whose_layout_fails_is_refused_at_save(alice_client, operator):
    template = contracts.ensure_default_templates(operator)["adhesion"]
    response = alice_client.post(reverse("document_template", args=[template.pk]), {"body": "# " + "A" * 40_000})
    assert response.status_code == 400
    assert "mis en page" in response.content.decode()
    assert template.versions.count() == 1


def test_rendering_refuses_loops_over_texts_even_unsaved():
    with pytest.raises(Exception, match="pas un texte"):
        render_text('{% for a in "abc" %}{{ a }}{% endfor %}', {})


def test_bob_cannot_preview_templates(operator, site):
    client = Client()
    client.force_login(site["bob"])
    template = contracts.ensure_default_templates(operator)["convention_temporaire"]
    assert client.post(reverse("document_template_preview", args=[template.pk]), {"body": "x"}).status_code == 404


def test_an_occupant_member_sees_the_signed_pdf_but_not_the_drafts(operator, site):
    from django.contrib.auth import get_user_model

    from cascade.accounts.models import Membership

    subscription, convention = _new(operator, site["alice"])
    request = _send(convention)
    _sign_all(request)
    subscription.refresh_from_db()
    terms = subscriptions.terms_from_version(subscription.current_version)
    terms.amounts[ComponentKind.RENT], terms.effective_from = Decimal("350"), date(2027, 1, 1)
    subscriptions.propose_version(subscription, terms)
    member = get_user_model().objects.create_user("m@lumen.example.org", "m@lumen.example.org", "x")
    Membership.objects.create(user=member, organisation=subscription.subscriber, role="member")
    client = Client()
    client.force_login(member)
    page = client.get(reverse("subscription", args=[subscription.pk])).content.decode()
    assert "Avenant n° 1" not in page  # a draft of the operator's
    assert reverse("signature_signed_pdf", args=[request.pk]) in page
    assert f'href="{reverse("signature_request", args=[request.pk])}"' not in page
    assert client.get(reverse("signature_signed_pdf", args=[request.pk])).status_code == 200
    assert Contract.objects.filter(subscription=subscription).count() == 2
