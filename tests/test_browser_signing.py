"""A convention created, sent and signed by two signers in a real browser (Debian's chromium through
Playwright), with the e-mails (links, one-time codes) read from a real SMTP server on loopback."""

import re
import subprocess
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from test_browser import ATELIERS, _log_in, page  # noqa: F401  (the page fixture)
from test_signed_pdf import pdfsig_report

from cascade.contracts.demo import _vacant_spaces
from cascade.contracts.models import Contract, ContractStatus
from cascade.places.models import Place
from cascade.signing.models import RequestState, SignatureRequest
from cascade.subscriptions.models import Subscription, SubscriptionStatus
from conftest import body_of, link_path

pytestmark = pytest.mark.browser

OCCUPANT = "ines.barbier@atelier-lumen.example.org"


def _latest_link(inbox, to: str) -> str:
    messages = [m for rcpt, m in inbox.messages if rcpt == [to] and "/s/" in body_of(m)]
    return link_path(messages[-1])


def _code(inbox, to: str) -> str:
    subjects = [m["Subject"] for rcpt, m in inbox.messages if rcpt == [to] and re.search(r"\d{6}", m["Subject"])]
    return re.search(r"\d{6}", subjects[-1]).group(0)


def _sign_in_browser(tab: Page, path: str, inbox, email: str, name: str, *, draw: bool) -> None:
    tab.goto(path)
    expect(tab.locator("#send-code")).to_be_visible()
    tab.click("#send-code")
    expect(tab.locator(".messages")).to_contain_text("Un code a été envoyé")
    tab.fill("#code", _code(inbox, email))
    tab.click("#verify-code")
    expect(tab.locator(".messages")).to_contain_text("Identité confirmée")
    tab.check("#consent")
    tab.fill("#typed_name", name)
    if draw:
        box = tab.locator("#pad").bounding_box()
        tab.mouse.move(box["x"] + 20, box["y"] + 70)
        tab.mouse.down()
        for x in range(30, 300, 15):
            tab.mouse.move(box["x"] + x, box["y"] + 70 + (25 if x % 30 else -25))
        tab.mouse.up()
    tab.click("#sign-button")
    expect(tab.locator(".messages")).to_contain_text("votre signature est enregistrée")


def test_a_manager_sends_a_convention_and_two_signers_sign_it(site, page, inbox, tmp_path):  # noqa: F811
    operator = site["operator"]
    place = Place.objects.get(organisation=operator, name=ATELIERS)
    space = _vacant_spaces(place, date(2026, 12, 1), 1)[0]

    _log_in(page, site["alice"].email)
    page.goto(reverse("new_subscription", args=[operator.pk]))
    page.fill("#id_new_name", "Atelier Lumen")
    page.fill("#id_new_email", OCCUPANT)
    page.fill("#id_new_representative", "Inès Barbier")
    page.select_option("#id_resources", [str(space.pk)])
    page.fill("#id_entry_date", "2026-12-01")
    page.fill("#id_rent", "420,00")
    page.fill("#id_fluids", "45")
    page.click("#create-subscription")
    expect(page.locator("#subscription-status")).to_have_text("en attente")
    subscription = Subscription.objects.get(subscriber__name="Atelier Lumen")

    page.click("text=Envoyer pour signature")
    expect(page.locator("#id_occupant_email")).to_have_value(OCCUPANT)
    page.fill("#id_operator_name", "Alice Martin")
    page.click("#send")
    expect(page.locator("h1")).to_contain_text("SIG-")
    request = SignatureRequest.objects.get(contract__subscription=subscription)

    signer = page.context.browser.new_context(base_url=page.url.split("/signatures")[0], locale="fr-FR")
    occupant_page = signer.new_page()
    _sign_in_browser(occupant_page, _latest_link(inbox, OCCUPANT), inbox, OCCUPANT, "Inès Barbier", draw=True)
    signer.close()

    manager = page.context.browser.new_context(base_url=page.url.split("/signatures")[0], locale="fr-FR")
    operator_page = manager.new_page()
    alice_email = site["alice"].email
    _sign_in_browser(operator_page, _latest_link(inbox, alice_email), inbox, alice_email, "Alice Martin",
                     draw=False)
    manager.close()

    request.refresh_from_db()
    subscription.refresh_from_db()
    assert request.state == RequestState.SIGNED
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert Contract.objects.get(subscription=subscription).status == ContractStatus.SIGNED
    page.goto(reverse("subscription", args=[subscription.pk]))
    expect(page.locator("#subscription-status")).to_have_text("en vigueur")
    with page.expect_download() as download:
        page.click("text=PDF signé")
    signed = tmp_path / "signed.pdf"
    download.value.save_as(signed)
    report = pdfsig_report(signed, tmp_path)
    assert report.count("Signature Validation: Signature is Valid.") == 1, report
    assert "Certificate Validation: Certificate is Trusted." in report
    assert "Signer Certificate Common Name: " + operator.name in report
    # The drawn signature is on the evidence page.
    out = subprocess.run(["pdfimages", "-list", str(signed)], capture_output=True, text=True, check=True).stdout
    assert "png" in out or "image" in out
