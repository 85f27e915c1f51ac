"""A convention and an amendment signed online, as the people involved do it: the manager creates
the subscription and sends its convention from the pages, each signer follows the link of their
e-mail (a real SMTP server on loopback), asks for a code, types it, consents and signs. Then the
version is in force and billed; the signed PDF is sealed and checked.

Bad input along the way (wrong codes, a reused or expired link, another signer's link, a name
that is not theirs) gets a clear message and changes nothing but the evidence log.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cascade.billing import engine
from cascade.contracts.demo import _vacant_spaces
from cascade.contracts.models import Contract, ContractStatus
from cascade.places.models import Place
from cascade.signing import keys, pades, sealing
from cascade.signing.actions import chain_problems
from cascade.signing.models import RequestState, SignatureEvent, SignatureRequest, Signer, SignerState
from cascade.subscriptions.models import Subscription, SubscriptionStatus, VersionStatus
from conftest import body_of, link_path

ATELIERS = "Les Ateliers du Canal"
ENTRY = date(2026, 12, 1)
OCCUPANT_EMAIL = "ines.barbier@atelier-lumen.example.org"


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run a request with the e-mails it commits sent for real (tests run inside a transaction)."""
    def run(method, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return method(*args, **kwargs)
    return run


def _page(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _code(inbox, to: str) -> str:
    message = [m for rcpt, m in inbox.messages if rcpt == [to]][-1]
    return re.search(r"\b(\d{6})\b", message["Subject"]).group(1)


def _link(inbox, to: str) -> str:
    messages = [m for rcpt, m in inbox.messages if rcpt == [to] and "http" in body_of(m)]
    return link_path(messages[-1])


def create_subscription(alice_client, operator, send, *, rent="420,00") -> Subscription:
    place = Place.objects.get(organisation=operator, name=ATELIERS)
    space = _vacant_spaces(place, ENTRY, 1)[0]
    response = send(alice_client.post, reverse("new_subscription", args=[operator.pk]), {
        "new_name": "Atelier Lumen", "new_legal_form": "SCOP SARL", "new_siret": "09281590139629",
        "new_email": OCCUPANT_EMAIL, "new_address": "12 rue des Lilas\n93100 Montreuil",
        "new_representative": "Inès Barbier", "new_representative_title": "Gérante",
        "resources": [space.pk], "entry_date": ENTRY.isoformat(), "exit_date": "2027-06-30",
        "rent": rent, "fluids": "45", "deposit": "420", "frequency": "monthly", "term": "advance",
    })
    assert response.status_code == 302, _page(response)
    return Subscription.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[1])


def send_convention(alice_client, contract: Contract, send, *, operator_email="alice@tremplin.example.org"):
    response = send(alice_client.post, reverse("contract_send", args=[contract.pk]), {
        "occupant_name": "Inès Barbier", "occupant_email": OCCUPANT_EMAIL, "occupant_quality": "Gérante",
        "operator_name": "Alice Martin", "operator_email": operator_email, "operator_quality": "Co-gérante",
        "link_days": 14, "reminder_days": 3, "expires_in_days": 30,
    })
    assert response.status_code == 302, _page(response)
    return SignatureRequest.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[1])


def sign_as(browser: Client, path: str, inbox, email_address: str, name: str, send) -> None:
    """What a signer does: open the page, read the PDF, get a code, type it, consent, sign."""
    assert browser.get(path).status_code == 200
    assert browser.get(path + "document.pdf").status_code == 200
    send(browser.post, path + "code/")
    send(browser.post, path + "verify/", {"code": _code(inbox, email_address)})
    response = send(browser.post, path + "sign/", {"consent": "on", "typed_name": name}, follow=True)
    assert "Merci : votre signature est enregistrée." in _page(response), _page(response)


def test_a_convention_is_signed_by_both_signers_and_billing_follows(alice_client, operator, inbox, send):
    subscription = create_subscription(alice_client, operator, send)
    assert subscription.status == SubscriptionStatus.PENDING
    convention = Contract.objects.get(subscription=subscription)
    assert (convention.status, convention.reference, convention.title) == (
        ContractStatus.DRAFT, subscription.reference, "Convention d'occupation temporaire")
    # Not in force, so not billed: nothing is due while the convention is unsigned.
    assert engine.plan_subscription(subscription, date(2026, 12, 31), engine.Billed()) == []

    request = send_convention(alice_client, convention, send)
    assert request.state == RequestState.TO_SIGN
    invitation = next(m for rcpt, m in inbox.messages if rcpt == [OCCUPANT_EMAIL])
    assert invitation["Subject"].strip() == f"À signer : {request.title}"
    occupant_path = link_path(invitation)

    sign_as(Client(), occupant_path, inbox, OCCUPANT_EMAIL, "Inès Barbier", send)
    occupant = request.signers.get(order=1)
    occupant.refresh_from_db()
    assert occupant.state == SignerState.SIGNED and occupant.typed_name == "Inès Barbier"
    # The operator's signer is invited only now, in order.
    operator_path = _link(inbox, "alice@tremplin.example.org")
    sign_as(Client(), operator_path, inbox, "alice@tremplin.example.org", "Alice Martin", send)

    request.refresh_from_db()
    convention.refresh_from_db()
    subscription.refresh_from_db()
    assert request.state == RequestState.SIGNED
    assert convention.status == ContractStatus.SIGNED and convention.signed_at == request.completed_at
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_version.status == VersionStatus.IN_FORCE
    # Billed from its entry date: December 2026, 420.00 + 45.00 at 20 %.
    plans = engine.plan_subscription(subscription, date(2026, 12, 31), engine.billed_amounts([subscription.pk]))
    assert [(p.invoice_date, [line.amount for line in p.lines]) for p in plans] == [
        (ENTRY, [Decimal("420.00"), Decimal("45.00")])]

    # Each signer receives the sealed PDF.
    finals = [(rcpt, m) for rcpt, m in inbox.messages if m["Subject"].strip().startswith("Signé par tous")]
    assert sorted(rcpt[0] for rcpt, _ in finals) == ["alice@tremplin.example.org", OCCUPANT_EMAIL]
    attachment = next(finals[0][1].iter_attachments())
    pdf = attachment.get_content()
    assert attachment.get_filename() == f"{request.reference}-signe.pdf"
    with request.signed_document.open("rb") as f:
        assert f.read() == pdf
    result = pades.verify(pdf, trust_roots=keys.trust_roots())
    assert result.signed and result.intact and result.sealed_by_cascade, result.problems
    assert [s.signer_name for s in result.signatures] == [operator.name]
    assert [s["name"] for s in sealing.signers_of(pdf)] == ["Inès Barbier", "Alice Martin"]
    assert chain_problems(request) == []
    kinds = list(request.events.values_list("kind", flat=True))
    assert kinds[:3] == ["created", "sent", "opened"]
    assert kinds.count("signed") == 2 and kinds[-1] == "completed"


def test_wrong_codes_lock_the_link_and_change_nothing_else(alice_client, operator, inbox, send):
    subscription = create_subscription(alice_client, operator, send)
    request = send_convention(alice_client, Contract.objects.get(subscription=subscription), send)
    path = _link(inbox, OCCUPANT_EMAIL)
    browser = Client()
    browser.get(path)
    send(browser.post, path + "code/")
    right = _code(inbox, OCCUPANT_EMAIL)
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2, 1):
        page = _page(send(browser.post, path + "verify/", {"code": wrong}, follow=True))
        assert f"Code erroné. Il vous reste {left} essai(s)." in page
    page = _page(send(browser.post, path + "verify/", {"code": wrong}, follow=True))
    assert "Après 5 codes erronés, ce lien est verrouillé" in page
    # Even the right code no longer opens it, and the page says why.
    page = _page(send(browser.post, path + "verify/", {"code": right}, follow=True))
    assert "Ce lien est verrouillé après 5 codes erronés" in page
    signer = request.signers.get(order=1)
    assert signer.state == SignerState.INVITED and signer.verified_at is None and signer.locked_at is not None
    assert request.signers.get(order=2).state == SignerState.WAITING
    assert list(request.events.filter(kind__in=("code_failed", "locked")).values_list("kind", flat=True)) == [
        "code_failed"] * 5 + ["locked"]

    # The manager sends a new link: the old one is dead, the new one works.
    send(alice_client.post, reverse("signature_renew_link", args=[request.pk]), {"signer": signer.pk})
    new_path = _link(inbox, OCCUPANT_EMAIL)
    assert new_path != path
    assert "Ce lien n’est pas valide" in _page(Client().get(path)) or "Ce lien n'est pas valide" in _page(
        Client().get(path))
    sign_as(Client(), new_path, inbox, OCCUPANT_EMAIL, "Inès Barbier", send)


def test_a_name_that_is_not_the_signers_and_no_consent_are_refused(alice_client, operator, inbox, send):
    subscription = create_subscription(alice_client, operator, send)
    request = send_convention(alice_client, Contract.objects.get(subscription=subscription), send)
    path = _link(inbox, OCCUPANT_EMAIL)
    browser = Client()
    browser.get(path)
    # Signing before confirming one's identity is refused.
    page = _page(send(browser.post, path + "sign/", {"consent": "on", "typed_name": "Inès Barbier"}, follow=True))
    assert "Confirmez votre identité avec le code reçu par e-mail avant de signer." in page
    send(browser.post, path + "code/")
    send(browser.post, path + "verify/", {"code": _code(inbox, OCCUPANT_EMAIL)})
    page = _page(send(browser.post, path + "sign/", {"consent": "on", "typed_name": "Quelqu'un d'autre"},
                      follow=True))
    assert "Tapez votre nom tel qu’il figure sur la demande : Inès Barbier." in page
    page = _page(send(browser.post, path + "sign/", {"typed_name": "Inès Barbier"}, follow=True))
    assert "Cochez la case pour consentir à signer ce document électroniquement." in page
    assert request.signers.get(order=1).state == SignerState.INVITED
    # Accents, case and spaces do not matter.
    page = _page(send(browser.post, path + "sign/", {"consent": "on", "typed_name": "  ines  BARBIER "},
                      follow=True))
    assert "Merci : votre signature est enregistrée." in page


def test_a_used_link_another_signers_link_and_an_expired_link_say_why(alice_client, operator, inbox, send):
    subscription = create_subscription(alice_client, operator, send)
    request = send_convention(alice_client, Contract.objects.get(subscription=subscription), send)
    occupant_path = _link(inbox, OCCUPANT_EMAIL)
    browser = Client()
    sign_as(browser, occupant_path, inbox, OCCUPANT_EMAIL, "Inès Barbier", send)
    events = request.events.count()

    # The link again, after signing: a clear message, nothing recorded, nothing changed.
    page = _page(browser.get(occupant_path))
    assert "Vous avez signé ce document le" in page
    page = _page(send(browser.post, occupant_path + "sign/", {"consent": "on", "typed_name": "Inès Barbier"},
                      follow=True))
    assert "ce lien ne peut plus servir à signer" in page
    assert request.events.count() == events

    # The operator's link opened in the occupant's browser: refused, it is personal.
    operator_path = _link(inbox, "alice@tremplin.example.org")
    page = _page(browser.get(operator_path))
    assert "Ce lien est personnel" in page and "Inès Barbier" in page
    assert request.events.count() == events

    # Expired: the page says so and the manager can send a new one.
    Signer.objects.filter(request=request, order=2).update(link_expires_at=timezone.now() - timedelta(minutes=1))
    page = _page(Client().get(operator_path))
    assert "Ce lien a expiré le" in page
    assert request.signers.get(order=2).state == SignerState.INVITED


def test_a_refused_convention_leaves_the_subscription_pending(alice_client, operator, inbox, send):
    subscription = create_subscription(alice_client, operator, send)
    convention = Contract.objects.get(subscription=subscription)
    request = send_convention(alice_client, convention, send)
    path = _link(inbox, OCCUPANT_EMAIL)
    browser = Client()
    browser.get(path)
    send(browser.post, path + "code/")
    send(browser.post, path + "verify/", {"code": _code(inbox, OCCUPANT_EMAIL)})
    page = _page(send(browser.post, path + "refuse/", {"reason": "  "}, follow=True))
    assert "Dites pourquoi vous refusez de signer" in page
    page = _page(send(browser.post, path + "refuse/", {"reason": "Le local est trop petit."}, follow=True))
    assert "Votre refus a été transmis" in page
    request.refresh_from_db()
    convention.refresh_from_db()
    subscription.refresh_from_db()
    assert (request.state, request.reason) == (RequestState.REFUSED, "Le local est trop petit.")
    assert convention.status == ContractStatus.REFUSED
    assert subscription.status == SubscriptionStatus.PENDING
    assert subscription.latest_version.status == VersionStatus.REFUSED
    refusal = [m for rcpt, m in inbox.messages if m["Subject"].strip().startswith("Refusé")]
    assert len(refusal) == 1 and "Le local est trop petit." in body_of(refusal[0])
    # The operator's signer was never invited.
    assert request.signers.get(order=2).state == SignerState.WAITING


def test_an_amendment_changing_the_fee_is_signed_and_billing_follows_it(alice_client, operator, inbox, send):
    subscription = create_subscription(alice_client, operator, send)
    request = send_convention(alice_client, Contract.objects.get(subscription=subscription), send)
    sign_as(Client(), _link(inbox, OCCUPANT_EMAIL), inbox, OCCUPANT_EMAIL, "Inès Barbier", send)
    sign_as(Client(), _link(inbox, "alice@tremplin.example.org"), inbox, "alice@tremplin.example.org",
            "Alice Martin", send)
    space = subscription.current_version.resources.get()
    response = send(alice_client.post, reverse("amend_subscription", args=[subscription.pk]), {
        "effective_from": "2026-12-15", "entry_date": "2026-12-01", "exit_date": "2027-06-30",
        "resources": [space.pk], "rent": "441,00", "fluids": "45,00", "frequency": "monthly", "term": "advance"})
    assert response.status_code == 302
    amendment = Contract.objects.get(subscription=subscription, kind="avenant")
    assert (amendment.reference, amendment.amendment_number, amendment.title) == (
        f"{subscription.reference}-A1", 1, f"Avenant n° 1 à la convention {subscription.reference}")
    assert amendment.changes == [{"objet": "Redevance d'occupation (mensuelle HT)", "ancien": "420,00\u00a0€",
                                  "nouveau": "441,00\u00a0€"}]
    # Not in force before it is signed.
    assert subscription.current_version.number == 1
    inbox.messages.clear()
    amendment_request = send_convention(alice_client, amendment, send)
    sign_as(Client(), _link(inbox, OCCUPANT_EMAIL), inbox, OCCUPANT_EMAIL, "Inès Barbier", send)
    sign_as(Client(), _link(inbox, "alice@tremplin.example.org"), inbox, "alice@tremplin.example.org",
            "Alice Martin", send)
    amendment_request.refresh_from_db()
    subscription.refresh_from_db()
    assert amendment_request.state == RequestState.SIGNED
    assert subscription.current_version.number == 2
    # December, billed once both versions are known: a line per price, 14 days at 420.00 and 17 days
    # at 441.00 → 189.68 + 241.84 = 431.52 (431.516… rounded once, shared by largest remainder); the
    # fluids, unchanged, in one line.
    plans = engine.plan_subscription(subscription, date(2026, 12, 31), engine.billed_amounts([subscription.pk]))
    assert [(line.amount, line.label) for line in plans[0].lines] == [
        (Decimal("189.68"), f"Redevance d'occupation — {space.reference} — du 01/12/2026 au 14/12/2026 (14/31 jours)"),
        (Decimal("241.84"), f"Redevance d'occupation — {space.reference} — du 15/12/2026 au 31/12/2026 (17/31 jours) "
                            f"— Avenant n° 1 du 15/12/2026"),
        (Decimal("45.00"), f"Provision sur charges (fluides) — {space.reference} — du 01/12/2026 au 31/12/2026")]
    # The convention's signed PDF is still intact after the amendment's signature.
    request.refresh_from_db()
    with request.signed_document.open("rb") as f:
        assert pades.verify(f.read(), trust_roots=keys.trust_roots()).intact


def test_the_evidence_log_cannot_be_rewritten(alice_client, operator, inbox, send):
    from django.db import connection, transaction
    from django.db.utils import DatabaseError

    subscription = create_subscription(alice_client, operator, send)
    request = send_convention(alice_client, Contract.objects.get(subscription=subscription), send)
    event = request.events.order_by("seq").first()
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE signing_signatureevent SET ip = '10.0.0.1' WHERE id = %s", [event.pk])
    # A forged line appended outside the actions breaks the chain, and the page says so.
    SignatureEvent.objects.create(request=request, seq=3, kind="signed", at=timezone.now(), document_sha256="0" * 64,
                                  previous_hash="f" * 64, hash="e" * 64)
    assert chain_problems(request) == ["L’événement 3 ne suit pas celui qui le précède.",
                                       "L’événement 3 a été modifié."]
    page = _page(alice_client.get(reverse("signature_request", args=[request.pk])))
    assert "L’événement 3 a été modifié." in page
