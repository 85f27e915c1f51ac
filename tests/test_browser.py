"""Cascade in a real browser: Debian's chromium, driven by Playwright, against a live server.

`live_server` needs a transactional database, flushed when each test ends. pytest-django runs
such tests after every test wrapped in a transaction, and `site` builds the demo again for a
test that needs it after a flush (see conftest.py).
"""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.urls import reverse
from playwright.sync_api import Page, expect, sync_playwright
from pypdf import PdfReader

from cascade.accounts.models import Membership, Organisation, OrganisationKind, Role
from cascade.billing.formatting import format_eur
from cascade.billing.models import Invoice
from cascade.places.models import Place
from conftest import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ATELIERS = "Les Ateliers du Canal"


@pytest.fixture
def page(live_server, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # still synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        # A browser set to French, as the operators' are; an English one is answered in English.
        context = browser.new_context(base_url=live_server.url, accept_downloads=True,
                                      locale="fr-FR")
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()
        browser.close()
        # The ORM calls made while Playwright runs open a connection of their own: close it, or
        # PostgreSQL refuses to drop the test database at the end of the session.
        connections.close_all()


def _log_in(page: Page, email: str) -> None:
    page.goto(reverse("login"))
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def _spaced(text: str) -> str:
    """Any run of spaces (line breaks, no-break and narrow no-break spaces) as one space."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def _pdf_text(data: bytes) -> str:
    return _spaced("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def test_alice_goes_from_a_place_to_an_occupant_and_downloads_an_invoice(site, page, tmp_path):
    operator = site["operator"]
    place = Place.objects.get(organisation=operator, name=ATELIERS)
    # The largest invoice of the place: its total has a thousands separator.
    invoice = (Invoice.objects.filter(organisation=operator, place=place).select_related("customer")
               .order_by("-total_incl_vat").first())
    occupant = invoice.customer

    _log_in(page, site["alice"].email)
    expect(page).to_have_url(re.compile(re.escape(reverse("dashboard", args=[operator.pk])) + "$"))
    expect(page.locator("h1")).to_have_text(operator.name)

    page.get_by_role("link", name=ATELIERS).click()
    expect(page.locator("h1")).to_have_text(ATELIERS)
    timeline = page.locator(".timeline svg.tl-timeline")
    expect(timeline).to_be_visible()
    expect(timeline).to_have_attribute("aria-label", re.compile(r"^Frise d’occupation du "))
    assert page.locator("svg.tl-timeline .tl-bar").count() > 0
    vacant = page.locator("svg.tl-timeline rect.tl-vacant")
    assert vacant.count() > 0
    assert vacant.first.bounding_box()["width"] > 0
    assert vacant.first.locator("title").text_content().startswith("Vacant du ")

    page.locator("header nav").get_by_role("link", name="Occupants").click()
    page.fill("input[name=q]", occupant.name)
    page.locator("form.filters button").click()
    page.get_by_role("link", name=occupant.name, exact=True).click()
    expect(page.locator("h1")).to_have_text(occupant.name)

    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(page.locator("h1")).to_contain_text(invoice.number)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    text = _pdf_text(saved.read_bytes())
    assert invoice.number in text
    assert invoice.seller["name"] in text
    assert invoice.buyer["name"] == occupant.name
    assert occupant.name in text
    assert _spaced(format_eur(invoice.total_incl_vat)) in text


def test_pages_are_in_french_until_english_is_chosen(page, live_server):
    """The language form of every page switches the interface; the choice follows the visitor.

    Its own small operator rather than the demo: no need to build the demo again after the
    previous browser test flushed it."""
    operator = Organisation.objects.create(name="Friche des Langues", slug="friche-langues",
                                           kind=OrganisationKind.OPERATOR)
    address = "lea@langues.example.org"
    user = get_user_model().objects.create_user(address, address, PASSWORD)
    Membership.objects.create(user=user, organisation=operator, role=Role.ADMIN)

    page.goto(reverse("login"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Se connecter")

    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Log in")

    _log_in(page, user.email)
    expect(page.locator("h1")).to_have_text(operator.name)
    expect(page.locator("main h2").first).to_have_text("Places")
    expect(page.locator("header nav")).to_contain_text("Invoices")

    with page.expect_navigation():
        page.select_option("select[name=language]", "fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("main h2").first).to_have_text("Lieux")
    expect(page.locator("header nav")).to_contain_text("Factures")
