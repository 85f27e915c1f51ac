"""Shared fixtures: personas (alice operates, bob is a viewer, charlie belongs elsewhere) and
the demo workbook imported once per session."""

import email
import os
import re
import shutil
import socket
import subprocess
from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
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
    from cascade.payments.demo import record_demo_direct_debit, record_demo_history

    report = import_workbook(str(WORKBOOK))
    assert report.ok, report.faults
    run = bill_until(DEMO_DAY)
    # As `cascade demo` leaves it: October's direct debit of one occupant, the history paid but by two late payers.
    record_demo_direct_debit(report.operator)
    record_demo_history(report.operator)
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


# A real SMTP server on loopback -----------------------------------------------------------------

class Inbox:
    """An aiosmtpd handler that keeps what it is sent."""

    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def only(self, to: str) -> EmailMessage:
        assert [rcpt for rcpt, _ in self.messages] == [[to]], self.messages
        return self.messages[0][1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def inbox(smtp_server, settings):
    """Django sends through the loopback SMTP server (pytest-django's default is locmem)."""
    controller, inbox = smtp_server
    inbox.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return inbox


def body_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_path(message: EmailMessage) -> str:
    """The path of the one link in the message (the host is the site's, the path is ours)."""
    links = re.findall(r"https?://\S+", body_of(message))
    assert len(links) == 1, body_of(message)
    return urlsplit(links[0]).path


# poppler's pdfsig, trusting given authorities -----------------------------------------------------

def pdfsig_report(pdf: Path, roots: list[bytes], workdir: Path) -> str:
    """What poppler's pdfsig says of the file, trusting `roots` through an NSS database in `workdir`."""
    missing = [tool for tool in ("pdfsig", "certutil") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {', '.join(missing)} missing (apt-get install poppler-utils libnss3-tools)")
        pytest.skip(f"{', '.join(missing)} not installed")
    nss = workdir / "nss"
    if not nss.exists():
        nss.mkdir()
        subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{nss}"], check=True, capture_output=True)
        for n, root in enumerate(roots):
            (workdir / f"ca-{n}.pem").write_bytes(root)
            # poppler checks signers as e-mail signers: the root must be trusted for S/MIME (second
            # flag); "C,," only trusts it for TLS and pdfsig answers "Certificate issuer isn't Trusted".
            subprocess.run(["certutil", "-A", "-n", f"cascade-ca-{n}", "-t", "C,C,", "-i",
                            str(workdir / f"ca-{n}.pem"), "-d", f"sql:{nss}"], check=True, capture_output=True)
    result = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True)
    return result.stdout + result.stderr


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's chromium; under CI a missing browser fails instead of skipping."""
    if Path("/usr/bin/chromium").exists():
        return
    browser_tests = [item for item in items if "browser" in item.keywords]
    if browser_tests and os.environ.get("CI") == "true":
        pytest.exit("CI=true and /usr/bin/chromium is missing: browser tests cannot be skipped", returncode=1)
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason="/usr/bin/chromium is not installed"))
