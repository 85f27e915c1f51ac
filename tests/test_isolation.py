"""A persona of another organisation gets 404 on every page and object URL of the operator.

Every URL pattern of the project is listed here with a real object of the demo operator:
alice (admin of the operator) reaches it, charlie (admin of "Ailleurs Coop") gets 404, so
that nobody learns that the object exists. A new URL pattern fails
`test_every_url_pattern_is_covered` until it is added to the table. bob, a viewer of the
operator, reads every page but reaches none of the pages that change something.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from test_signed_pdf import signed_request

from cascade.accounts.models import Invitation, Membership, Organisation, OrganisationKind, Role
from cascade.billing.models import Invoice
from cascade.contracts import actions as contracts
from cascade.contracts.demo import _vacant_spaces
from cascade.contracts.models import Contract, DocumentTemplate
from cascade.payments.debits import export_batch, send_prenotifications
from cascade.payments.demo import Movement, camt053
from cascade.payments.mandates import create_mandate
from cascade.payments.models import Deposit, DirectDebitBatch, Mandate, Reminder, StatementLine, StepKind
from cascade.payments.statements import import_statement
from cascade.places.models import Place, Resource
from cascade.signing.actions import SignerSpec
from cascade.signing.models import Party, SignatureRequest
from cascade.subscriptions import actions as subscriptions
from cascade.subscriptions import documents
from cascade.subscriptions.models import RequiredDocument, Subscription, SubscriptionTemplate, SupportingDocument
from conftest import PASSWORD, WORKBOOK

# Public pages (login, password reset, an invitation opened from its e-mail), Django's admin
# and the language switch: not pages of an organisation.
# Signing pages (reached by a personal link) and the verification of a signed PDF are public too:
# test_signing_flow.py shows who may use a link.
PUBLIC = {"login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
          "password_reset_complete", "accept_invitation", "sign", "sign_document", "sign_send_code",
          "sign_verify_code", "sign_sign", "sign_refuse", "sign_upload", "verify_pdf"}
SKIPPED_PREFIXES = ("admin/", "i18n/")

ATELIERS = "Les Ateliers du Canal"
VOLTAIRE = "École Voltaire"


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif entry.name not in PUBLIC:
            yield route, entry


def _project_patterns() -> dict[str, str]:
    """Name → route of every page of the project that belongs to an organisation."""
    found: dict[str, str] = {}
    for route, pattern in _patterns(get_resolver()):
        assert pattern.name, f"URL pattern {route!r} has no name: give it one and cover it here"
        assert pattern.name not in found, f"two URL patterns are named {pattern.name!r}"
        found[pattern.name] = route
    return found


class Demo:
    """Real objects of the demo operator, looked up when a case needs them."""

    def __init__(self, site: dict, alice: Client):
        self.site, self.alice = site, alice

    @cached_property
    def operator(self) -> Organisation:
        return self.site["operator"]

    @cached_property
    def place(self) -> Place:
        return Place.objects.get(organisation=self.operator, name=ATELIERS)

    @cached_property
    def resource(self) -> Resource:
        """An occupied space of the place, so that its page shows occupants."""
        return (Resource.objects.filter(place=self.place, subscription_versions__isnull=False)
                .order_by("reference").first())

    @cached_property
    def occupant(self) -> Organisation:
        return Organisation.objects.filter(operator=self.operator, kind=OrganisationKind.OCCUPANT,
                                           received_invoices__isnull=False).order_by("name").first()

    @cached_property
    def invoice(self) -> Invoice:
        invoices = Invoice.objects.filter(organisation=self.operator, customer=self.occupant)
        return invoices.order_by("pk").first()

    @cached_property
    def letter(self) -> Reminder:
        """A formal notice letter sent for the invoice (as the dunning pass records it)."""
        invoice = self.invoice
        return Reminder.objects.create(
            invoice=invoice, days=45, kind=StepKind.LETTER, day=date(2026, 12, 1), days_late=45,
            outstanding=invoice.total_incl_vat, late_penalty_rate=Decimal("12.15"), penalties=Decimal("1.00"),
            recovery_fee=Decimal("40.00"), subject="Mise en demeure", body="Bonjour", status="sent")

    @cached_property
    def subscription(self) -> Subscription:
        return Subscription.objects.filter(subscriber=self.occupant).order_by("pk").first()

    @cached_property
    def deposit(self) -> Deposit:
        return Deposit.objects.create(organisation=self.operator, subscription=self.subscription,
                                      amount=Decimal("876.00"), called_on=date(2026, 1, 1))

    @cached_property
    def contract(self) -> Contract:
        """The paper convention of an imported subscription."""
        return Contract.objects.get(subscription=self.subscription)

    @cached_property
    def draft(self) -> Contract:
        """A new subscription's convention, not sent yet; its template asks for an insurance certificate."""
        place = self.place
        requirement = RequiredDocument.objects.create(organisation=self.operator, name="Assurance", formats=["pdf"])
        template = SubscriptionTemplate.objects.create(organisation=self.operator, name="Convention test")
        template.required_documents.add(requirement)
        occupant = Organisation.objects.create(name="Nouvel occupant", slug="nouvel-occupant",
                                               kind=OrganisationKind.OCCUPANT, operator=self.operator)
        terms = subscriptions.TermsInput(entry_date=date(2026, 12, 1), exit_date=None, frequency="monthly",
                                         term="advance", resources=_vacant_spaces(place, date(2026, 12, 1), 1),
                                         amounts={"rent": Decimal("300")})
        return subscriptions.create_subscription(self.operator, subscriber=occupant, place=place, template=template,
                                                 terms=terms, acting_user=self.site["alice"])[1]

    @cached_property
    def document(self) -> SupportingDocument:
        upload = SimpleUploadedFile("assurance.pdf", b"%PDF-1.7\n% an insurance certificate\n")
        requirement = self.draft.subscription.template.required_documents.get()
        return documents.upload_document(self.draft.subscription, requirement, upload, uploaded_by="test")

    @cached_property
    def signature_request(self) -> SignatureRequest:
        signers = [SignerSpec("Nina Occupante", "nina@occupant.example.org", Party.OCCUPANT),
                   SignerSpec("Alice", self.site["alice"].email, Party.OPERATOR)]
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            return contracts.send_for_signature(self.draft, signers)

    @cached_property
    def mandate(self) -> Mandate:
        """A mandate of the occupant waiting for its signature on paper."""
        return create_mandate(self.operator, self.occupant, iban="FR7620041445099004349082629")

    @cached_property
    def batch(self) -> DirectDebitBatch:
        """A direct debit batch of a mandate signed on paper."""
        create_mandate(self.operator, self.occupant, iban="FR7620041445099004349082629", signed_on=date(2025, 1, 2))
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            send_prenotifications(date(2026, 11, 2))
        # November's invoice (the demo's history before is paid), debited on its due date.
        return export_batch(self.operator, date(2026, 12, 1), today=date(2026, 11, 25))

    @cached_property
    def signed_request(self) -> SignatureRequest:
        return signed_request(self.operator, self.site["alice"])

    @cached_property
    def document_template(self) -> DocumentTemplate:
        return contracts.ensure_default_templates(self.operator)["convention_temporaire"]

    @cached_property
    def subscription_template(self) -> SubscriptionTemplate:
        return self.subscription.template

    @cached_property
    def statement_line(self) -> StatementLine:
        """A credit of a statement of the operator's account that no rule matched."""
        data = camt053(self.operator.iban, "ISOLATION-1", 1, date(2026, 11, 1), date(2026, 11, 30), Decimal("0.00"),
                       [Movement(date(2026, 11, 20), Decimal("12.34"), "Inconnu", "", "DON")])
        return import_statement(data, self.operator).lines[0]

    @cached_property
    def review_token(self) -> str:
        """An upload of the workbook by alice, waiting for her review."""
        with WORKBOOK.open("rb") as f:
            response = self.alice.post(reverse("import_workbook", args=[self.operator.pk]),
                                       {"workbook": f})
        assert response.status_code == 302, response
        return response.url.rstrip("/").rsplit("/", 1)[1]


@dataclass(frozen=True)
class Case:
    url: Callable[[Demo], str]
    method: str = "get"
    # What alice gets: a page (200), or for a form posted empty, the form again with its errors.
    alice_status: int = 200
    manage_only: bool = False


CASES: dict[str, Case] = {
    "dashboard": Case(lambda d: reverse("dashboard", args=[d.operator.pk])),
    "members": Case(lambda d: reverse("members", args=[d.operator.pk])),
    "occupants": Case(lambda d: reverse("occupants", args=[d.operator.pk])),
    "occupant": Case(lambda d: reverse("occupant", args=[d.occupant.pk])),
    "invoices": Case(lambda d: reverse("invoices", args=[d.operator.pk])),
    "invoice": Case(lambda d: reverse("invoice", args=[d.invoice.pk])),
    "invoice_pdf": Case(lambda d: reverse("invoice_pdf", args=[d.invoice.pk])),
    "invoice_send": Case(lambda d: reverse("invoice_send", args=[d.invoice.pk]), "post", alice_status=302,
                         manage_only=True),
    "invoice_cancel": Case(lambda d: reverse("invoice_cancel", args=[d.invoice.pk]), "post", alice_status=302,
                           manage_only=True),
    "invoice_payment": Case(lambda d: reverse("invoice_payment", args=[d.invoice.pk]), "post", alice_status=302,
                            manage_only=True),
    "occupant_mandates": Case(lambda d: reverse("occupant_mandates", args=[d.occupant.pk])),
    "mandate_activate": Case(lambda d: reverse("mandate_activate", args=[d.mandate.pk]), "post", alice_status=302,
                             manage_only=True),
    "mandate_revoke": Case(lambda d: reverse("mandate_revoke", args=[d.mandate.pk]), "post", alice_status=302,
                           manage_only=True),
    "mandate_pdf": Case(lambda d: reverse("mandate_pdf", args=[d.mandate.pk])),
    "sepa_batches": Case(lambda d: reverse("sepa_batches", args=[d.operator.pk])),
    "sepa_batch_file": Case(lambda d: reverse("sepa_batch_file", args=[d.batch.pk])),
    "statements": Case(lambda d: reverse("statements", args=[d.operator.pk])),
    "statement_upload": Case(lambda d: reverse("statement_upload", args=[d.operator.pk]), "post", alice_status=302,
                             manage_only=True),
    "statement": Case(lambda d: reverse("statement", args=[d.statement_line.statement_id])),
    "statement_line_confirm": Case(lambda d: reverse("statement_line_confirm", args=[d.statement_line.pk]), "post",
                                   alice_status=302, manage_only=True),
    "statement_line_dismiss": Case(lambda d: reverse("statement_line_dismiss", args=[d.statement_line.pk]), "post",
                                   alice_status=302, manage_only=True),
    "invoice_dispute": Case(lambda d: reverse("invoice_dispute", args=[d.invoice.pk]), "post", alice_status=302,
                            manage_only=True),
    "reminder_pdf": Case(lambda d: reverse("reminder_pdf", args=[d.letter.pk])),
    "dunning_plan": Case(lambda d: reverse("dunning_plan", args=[d.operator.pk]), manage_only=True),
    "occupant_account": Case(lambda d: reverse("occupant_account", args=[d.occupant.pk])),
    "occupant_statement": Case(lambda d: reverse("occupant_statement", args=[d.occupant.pk])),
    "deposit_call": Case(lambda d: reverse("deposit_call", args=[d.subscription.pk]), "post", alice_status=302,
                         manage_only=True),
    "deposit_update": Case(lambda d: reverse("deposit_update", args=[d.deposit.pk]), "post", alice_status=302,
                           manage_only=True),
    "ledger": Case(lambda d: reverse("ledger", args=[d.operator.pk]) + "?year=2026"),
    "ledger_export": Case(lambda d: reverse("ledger_export", args=[d.operator.pk]) + "?year=2026&format=csv"),
    "invoices_export": Case(lambda d: reverse("invoices_export", args=[d.operator.pk]) + "?month=2026-03"),
    "billing_preview": Case(lambda d: reverse("billing_preview", args=[d.operator.pk]), manage_only=True),
    "place": Case(lambda d: reverse("place", args=[d.place.pk])),
    "resource": Case(lambda d: reverse("resource", args=[d.resource.pk])),
    "resource_split": Case(lambda d: reverse("resource_split", args=[d.resource.pk]),
                           "post", alice_status=400, manage_only=True),
    "resource_merge": Case(lambda d: reverse("resource_merge", args=[d.resource.pk]),
                           "post", alice_status=400, manage_only=True),
    "import_workbook": Case(lambda d: reverse("import_workbook", args=[d.operator.pk]),
                            manage_only=True),
    "import_review": Case(lambda d: reverse("import_review", args=[d.operator.pk, d.review_token]),
                          manage_only=True),
    "resource_attributes": Case(lambda d: reverse("resource_attributes", args=[d.resource.pk]), "post",
                                alice_status=302, manage_only=True),
    "resource_types": Case(lambda d: reverse("resource_types", args=[d.operator.pk])),
    "resource_type": Case(lambda d: reverse("resource_type", args=[d.resource.type_id])),
    "new_subscription": Case(lambda d: reverse("new_subscription", args=[d.operator.pk]), manage_only=True),
    "required_documents": Case(lambda d: reverse("required_documents", args=[d.operator.pk])),
    "subscription": Case(lambda d: reverse("subscription", args=[d.subscription.pk])),
    "amend_subscription": Case(lambda d: reverse("amend_subscription", args=[d.subscription.pk]),
                               manage_only=True),
    "cancel_subscription": Case(lambda d: reverse("cancel_subscription", args=[d.draft.subscription_id]), "post",
                                alice_status=302, manage_only=True),
    "document": Case(lambda d: reverse("document", args=[d.document.pk])),
    "document_review": Case(lambda d: reverse("document_review", args=[d.document.pk]), "post",
                            alice_status=302, manage_only=True),
    "subscription_template": Case(lambda d: reverse("subscription_template", args=[d.subscription_template.pk])),
    "subscription_template_terms": Case(
        lambda d: reverse("subscription_template_terms", args=[d.subscription_template.pk]), "post",
        alice_status=400, manage_only=True),
    "templates": Case(lambda d: reverse("templates", args=[d.operator.pk])),
    "document_template": Case(lambda d: reverse("document_template", args=[d.document_template.pk])),
    "document_template_preview": Case(lambda d: reverse("document_template_preview",
                                                        args=[d.document_template.pk]), "post", manage_only=True),
    "contract_pdf": Case(lambda d: reverse("contract_pdf", args=[d.contract.pk])),
    "contract_send": Case(lambda d: reverse("contract_send", args=[d.draft.pk]), manage_only=True),
    "contract_discard": Case(lambda d: reverse("contract_discard", args=[d.draft.pk]), "post", alice_status=302,
                             manage_only=True),
    "signature_request": Case(lambda d: reverse("signature_request", args=[d.signature_request.pk])),
    "signature_signed_pdf": Case(lambda d: reverse("signature_signed_pdf", args=[d.signed_request.pk])),
    "signature_cancel": Case(lambda d: reverse("signature_cancel", args=[d.signature_request.pk]), "post",
                             alice_status=302, manage_only=True),
    "signature_renew_link": Case(lambda d: reverse("signature_renew_link", args=[d.signature_request.pk]), "post",
                                 alice_status=302, manage_only=True),
}
# Pages without an object in their URL: each user lands on their own organisation.
OWN_PAGES = {"home"}


@pytest.fixture(autouse=True)
def files_in_tmp(settings, tmp_path):
    """Uploads and rendered PDFs go to the test's own folder, not to the working tree's var/."""
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def _client(user) -> Client:
    # Signing in with the password is the business of test_email.py; here it would only cost
    # a password hash per persona and test.
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(site):
    return _client(site["alice"])


@pytest.fixture
def bob(site):
    return _client(site["bob"])


@pytest.fixture
def charlie(site):
    return _client(site["charlie"])


@pytest.fixture
def demo(site, alice):
    return Demo(site, alice)


def _request(client: Client, case: Case, demo: Demo):
    return getattr(client, case.method)(case.url(demo))


def test_every_url_pattern_is_covered():
    assert set(_project_patterns()) == set(CASES) | OWN_PAGES


def test_every_object_url_is_in_the_table():
    with_object = {name for name, route in _project_patterns().items() if "<" in route}
    assert with_object == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_charlie_gets_404_where_alice_gets_the_page(name, demo, alice, charlie):
    case = CASES[name]

    assert _request(charlie, case, demo).status_code == 404
    response = _request(alice, case, demo)
    assert response.status_code == case.alice_status, response


@pytest.mark.parametrize("name", sorted(CASES))
def test_bob_reads_every_page_but_reaches_no_manage_only_one(name, demo, bob):
    case = CASES[name]

    response = _request(bob, case, demo)

    assert response.status_code == (404 if case.manage_only else 200), response


@pytest.mark.parametrize("name", sorted(set(CASES) | OWN_PAGES))
def test_anonymous_is_sent_to_login(name, demo, client):
    case = CASES.get(name, Case(lambda d: reverse(name)))
    url = case.url(demo)

    response = getattr(client, case.method)(url)

    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == reverse("login")
    assert parse_qs(target.query)["next"] == [url]


def test_the_pdf_is_alices_invoice(demo, alice):
    response = alice.get(reverse("invoice_pdf", args=[demo.invoice.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert demo.invoice.number in response["Content-Disposition"]


def test_an_invoice_is_also_seen_by_its_customer(demo, site):
    """An invoice is seen by its buyer too: a member of the occupant reads it, not others'."""
    address = "contact@occupant.example.org"
    member = get_user_model().objects.create_user(address, address, PASSWORD)
    Membership.objects.create(user=member, organisation=demo.occupant, role=Role.MEMBER)
    client = _client(member)
    other = Invoice.objects.filter(organisation=demo.operator).exclude(customer=demo.occupant)[0]

    assert client.get(reverse("invoice", args=[demo.invoice.pk])).status_code == 200
    assert client.get(reverse("occupant", args=[demo.occupant.pk])).status_code == 200
    assert client.get(reverse("invoice", args=[other.pk])).status_code == 404
    # Its own account, statement and formal notice letters; not another occupant's.
    assert client.get(reverse("occupant_account", args=[demo.occupant.pk])).status_code == 200
    assert client.get(reverse("occupant_statement", args=[demo.occupant.pk])).status_code == 200
    assert client.get(reverse("reminder_pdf", args=[demo.letter.pk])).status_code == 200
    assert client.get(reverse("occupant_account", args=[other.customer_id])).status_code == 404
    assert client.get(reverse("occupant_statement", args=[other.customer_id])).status_code == 404
    # Disputing is the seller's business.
    assert client.post(reverse("invoice_dispute", args=[demo.invoice.pk]), {"reason": "non"}).status_code == 404
    assert client.get(reverse("dashboard", args=[demo.operator.pk])).status_code == 404
    assert client.get(reverse("place", args=[demo.place.pk])).status_code == 404


# What charlie sees of his own organisation ----------------------------------------------------


def _operator_traces(demo: Demo) -> list[str]:
    return [ATELIERS, VOLTAIRE, demo.operator.name, demo.occupant.name, demo.invoice.number,
            demo.site["alice"].email]


def test_charlie_home_is_his_own_organisation(demo, charlie, site):
    response = charlie.get(reverse("home"), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("dashboard", args=[site["elsewhere"].pk])
    page = response.content.decode()
    assert site["elsewhere"].name in page
    for trace in _operator_traces(demo):
        assert trace not in page


@pytest.mark.parametrize("query", ["", "?q=a", "?q=Canal", "?on=2026-06-15"])
@pytest.mark.parametrize("name", ["dashboard", "occupants", "invoices", "members"])
def test_charlie_pages_do_not_list_the_operator_data(name, query, demo, charlie, site):
    response = charlie.get(reverse(name, args=[site["elsewhere"].pk]) + query)

    assert response.status_code == 200
    page = response.content.decode()
    for trace in _operator_traces(demo):
        assert trace not in page


def test_charlie_filters_with_the_operator_ids_find_nothing(demo, charlie, site):
    url = reverse("invoices", args=[site["elsewhere"].pk])

    response = charlie.get(url, {"place": demo.place.pk, "customer": demo.occupant.pk})

    assert response.status_code == 200
    assert response.context["totals"]["n"] == 0
    assert list(response.context["invoices"]) == []


def test_alice_home_is_the_operator_dashboard(demo, alice):
    response = alice.get(reverse("home"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("dashboard", args=[demo.operator.pk])
    assert ATELIERS in response.content.decode()


# What bob, a viewer, may not do -------------------------------------------------------------


def test_bob_sees_the_members_but_not_the_invitation_form(demo, bob):
    response = bob.get(reverse("members", args=[demo.operator.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert demo.site["alice"].email in page
    assert 'name="email"' not in page


def test_bob_cannot_invite(demo, bob, mailoutbox):
    response = bob.post(reverse("members", args=[demo.operator.pk]),
                        {"email": "eve@example.org", "role": "admin"})

    assert response.status_code == 404
    assert not Invitation.objects.filter(email="eve@example.org").exists()
    assert mailoutbox == []


def test_bob_is_not_offered_the_manage_only_forms(demo, alice, bob):
    """The pages bob reads do not offer what he cannot do; alice's offer it once."""
    resource_url = reverse("resource", args=[demo.resource.pk])
    dashboard_url = reverse("dashboard", args=[demo.operator.pk])
    import_url = reverse("import_workbook", args=[demo.operator.pk])

    bob_resource, alice_resource = (c.get(resource_url).content.decode() for c in (bob, alice))
    assert 'id="split"' not in bob_resource and 'id="merge"' not in bob_resource
    assert alice_resource.count('id="split"') == 1 and alice_resource.count('id="merge"') == 1
    assert import_url not in bob.get(dashboard_url).content.decode()
    assert import_url in alice.get(dashboard_url).content.decode()


def test_bob_cannot_split_a_resource(demo, bob):
    before = Resource.objects.filter(place=demo.place).count()

    response = bob.post(reverse("resource_split", args=[demo.resource.pk]),
                        {"effective_date": "2027-01-01", "parts": "X-1; 10\nX-2; 10"})

    assert response.status_code == 404
    assert Resource.objects.filter(place=demo.place).count() == before
