"""Shared fixtures: personas (alice operates, bob is a viewer, charlie belongs elsewhere) and
the demo workbook imported once per session."""

import os
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

DEMO_DIR = Path(__file__).resolve().parents[1] / "cascade" / "demo"
WORKBOOK = DEMO_DIR / "operator-workbook.xlsx"
ERRORS_WORKBOOK = DEMO_DIR / "operator-workbook-errors.xlsx"
ERRORS_EXPECTED = DEMO_DIR / "operator-workbook-errors.expected.json"
# The day the demo is billed up to in tests: fixed, so that figures can be pinned.
DEMO_DAY = date(2026, 11, 30)
PASSWORD = "correct horse battery staple"


def _user(email: str):
    return get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)


def _build_demo_site() -> dict:
    from cascade.accounts.models import Membership, Organisation, OrganisationKind, Role
    from cascade.billing.actions import bill_until
    from cascade.imports.services import import_workbook

    report = import_workbook(str(WORKBOOK))
    assert report.ok, report.faults
    run = bill_until(DEMO_DAY)
    alice = _user("alice@tremplin.example.org")
    bob = _user("bob@tremplin.example.org")
    charlie = _user("charlie@ailleurs.example.org")
    elsewhere = Organisation.objects.create(name="Ailleurs Coop", slug="ailleurs", kind=OrganisationKind.OPERATOR)
    Membership.objects.create(user=alice, organisation=report.operator, role=Role.ADMIN)
    Membership.objects.create(user=bob, organisation=report.operator, role=Role.VIEWER)
    Membership.objects.create(user=charlie, organisation=elsewhere, role=Role.ADMIN)
    return {"report": report, "operator": report.operator, "run": run, "alice": alice, "bob": bob,
            "charlie": charlie, "elsewhere": elsewhere}


def _demo_site_is_there(demo: dict) -> bool:
    from cascade.accounts.models import Membership
    from cascade.billing.models import Invoice

    return (Membership.objects.filter(user_id=demo["alice"].pk, organisation_id=demo["operator"].pk).exists()
            and Invoice.objects.filter(organisation_id=demo["operator"].pk).exists())


@pytest.fixture(scope="session")
def demo_site(django_db_setup, django_db_blocker):
    """The demo workbook imported and billed up to DEMO_DAY, shared by the tests of a session.

    Use it through `site`: a transactional test (`live_server`) flushes the database when it
    ends, and `site` then builds the demo again.
    """
    with django_db_blocker.unblock():
        demo = _build_demo_site()
    yield demo


@pytest.fixture
def _intact_demo_site(demo_site, django_db_blocker):
    # Requested by `site` before `db`, so that a rebuild is committed rather than rolled back
    # with the test's transaction.
    with django_db_blocker.unblock():
        if not _demo_site_is_there(demo_site):
            demo_site.update(_build_demo_site())
    return demo_site


@pytest.fixture
def site(_intact_demo_site, db):
    return _intact_demo_site


@pytest.fixture
def operator(site):
    return site["operator"]


def login(client, user) -> None:
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def alice_client(client, site):
    login(client, site["alice"])
    return client


@pytest.fixture
def charlie_client(client, site):
    login(client, site["charlie"])
    return client


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's chromium; under CI a missing browser fails instead of skipping."""
    if Path("/usr/bin/chromium").exists():
        return
    browser_tests = [item for item in items if "browser" in item.keywords]
    if browser_tests and os.environ.get("CI") == "true":
        pytest.exit("CI=true and /usr/bin/chromium is missing: browser tests cannot be skipped", returncode=1)
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason="/usr/bin/chromium is not installed"))
