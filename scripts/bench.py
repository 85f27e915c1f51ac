"""Benchmarks of Cascade's heavy paths on the demo workbook (`make bench`).

Each case runs on a fresh copy of a migrated database, several times; the script prints
the median and the fastest run. SQLite by default; `--postgres` also runs on the
PostgreSQL at 127.0.0.1:5432 (a throw-away database). Figures go to docs/benchmarks.md.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import federation

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
TEMPLATE = VAR / "bench-template.sqlite3"
DB = VAR / "bench.sqlite3"
WORKBOOK = ROOT / "cascade" / "demo" / "operator-workbook.xlsx"


def _setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cascade.settings")
    import django

    django.setup()


def _fresh_database(engine: str) -> None:
    """An empty migrated database: a copied SQLite file, or a flushed PostgreSQL one."""
    from django.core.management import call_command
    from django.db import connection

    connection.close()
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DB}{suffix}").unlink(missing_ok=True)
        shutil.copy(TEMPLATE, DB)
    else:
        call_command("flush", interactive=False, verbosity=0)


def _timed(label: str, runs: int, prepare, action) -> list[float]:
    times = []
    result = None
    for _ in range(runs):
        prepare()
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    print(f"{label:<58} median {statistics.median(times) * 1000:9.0f} ms   min {min(times) * 1000:9.0f} ms"
          + (f"   ({result})" if result else ""))
    return times


def run(engine: str, runs: int) -> None:
    from django.test import Client

    from cascade.billing.actions import bill_until
    from cascade.billing.documents import invoice_pdf
    from cascade.billing.models import Invoice
    from cascade.imports.services import import_workbook
    from cascade.imports.workbook import read_workbook
    from cascade.places.models import Place
    from cascade.places.occupancy import place_vacancy

    def fresh():
        _fresh_database(engine)

    def imported():
        fresh()
        import_workbook(str(WORKBOOK))

    def last_day() -> date:
        return max(p.convention_end for p in Place.objects.all()) + timedelta(days=1)

    print(f"\n== {engine}")
    _timed("read and check the workbook (no database)", runs, lambda: None,
           lambda: f"{len(read_workbook(WORKBOOK).occupations)} occupations")
    _timed("cascade import_workbook (demo workbook)", runs, fresh,
           lambda: ", ".join(f"{n} {k}" for k, n in import_workbook(str(WORKBOOK)).counts.items()))
    _timed("cascade bill --dry-run over all periods of the demo", runs, imported,
           lambda: f"{len(bill_until(last_day(), dry_run=True).planned)} invoices planned")
    _timed("cascade bill over all periods of the demo", runs, imported,
           lambda: f"{len(bill_until(last_day()).issued)} invoices issued")
    _timed("cascade bill again (nothing to issue)", runs, lambda: None,
           lambda: f"{len(bill_until(last_day()).issued)} invoices issued")
    _timed("cascade vacancy (every place, one day)", runs, lambda: None,
           lambda: f"{len([place_vacancy(p, date(2026, 3, 15)) for p in Place.objects.all()])} places")

    invoice = Invoice.objects.order_by("pk").first()
    pdf_dir = Path(os.environ.get("MEDIA_ROOT", VAR / "media")) / "invoices"
    _timed("invoice PDF (Typst, one invoice, not cached)", runs,
           lambda: shutil.rmtree(pdf_dir, ignore_errors=True), lambda: f"{len(invoice_pdf(invoice))} bytes")

    from cascade.accounts.models import Membership
    from cascade.imports.management.commands.demo import DEMO_EMAIL

    user = _demo_user(Membership, DEMO_EMAIL)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    place = Place.objects.order_by("name").first()
    _timed(f"place page with its timeline ({place.resources.count()} resources)", runs, lambda: None,
           lambda: f"HTTP {client.get(f'/places/{place.pk}/').status_code}")
    operator = place.organisation
    _timed("invoice list, first page", runs, lambda: None,
           lambda: f"HTTP {client.get(f'/o/{operator.pk}/invoices/').status_code}")
    _signing(runs, operator, user)


def _signing(runs: int, operator, user) -> None:
    """A full signing round trip through the actions: subscription and convention drawn, sent, two
    signers (code sent and verified, signed), the PDF sealed; and a signed PDF verified."""
    from django.test import override_settings

    from cascade.accounts.models import Organisation
    from cascade.contracts.actions import send_for_signature
    from cascade.contracts.demo import DEMO_BROWSER
    from cascade.places.models import Resource, ResourceType
    from cascade.signing import actions as signing
    from cascade.signing import keys, pades
    from cascade.signing.models import Party
    from cascade.subscriptions import actions as subscriptions
    from cascade.subscriptions.models import ComponentKind

    place = max(operator.places.all(), key=lambda p: p.convention_end)
    start = place.convention_start
    office = ResourceType.objects.filter(organisation=operator, rentable=True).first()
    keys.sealing_identity(operator)  # issued once per organisation, not part of a round trip
    made = []

    @override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    def round_trip() -> str:
        n = len(made) + 1
        occupant = Organisation.objects.create(name=f"Bench {n}", slug=f"bench-{n}-{os.getpid()}", kind="occupant",
                                               operator=operator)
        # A space of its own, so that each round trip finds one free.
        space = Resource.objects.create(organisation=operator, place=place, type=office, reference=f"BENCH-{n}",
                                        surface=20)
        terms = subscriptions.TermsInput(entry_date=start, exit_date=None, frequency="monthly", term="advance",
                                         resources=[space], amounts={ComponentKind.RENT: 400})
        _subscription, convention = subscriptions.create_subscription(operator, subscriber=occupant, place=place,
                                                                      template=None, terms=terms, acting_user=user)
        request = send_for_signature(convention, [
            signing.SignerSpec("Occupant Bench", f"occupant{n}@bench.example.org", Party.OCCUPANT),
            signing.SignerSpec("Gestionnaire Bench", user.email, Party.OPERATOR)])
        for signer in request.signers.order_by("order"):
            signer.refresh_from_db()
            signing.verify_code(signer, signing.send_code(signer, DEMO_BROWSER), DEMO_BROWSER)
            signing.sign(signer, typed_name=signer.name, consent=True, client=DEMO_BROWSER)
        request.refresh_from_db()
        made.append(request)
        return f"{request.signed_document.size} bytes signed PDF, {request.document.size} bytes document"

    _timed("signing round trip (draw, send, 2 signers, seal)", runs, lambda: None, round_trip)
    with made[0].signed_document.open("rb") as f:
        signed = f.read()
    roots = keys.trust_roots()
    _timed("verify a signed PDF (pyHanko)", runs, lambda: None,
           lambda: "intact" if pades.verify(signed, trust_roots=roots).intact else "ALTERED")


def _demo_user(Membership, email: str):
    from django.contrib.auth import get_user_model

    from cascade.places.models import Place

    User = get_user_model()
    user = User.objects.filter(username=email).first() or User.objects.create_user(username=email, email=email)
    operator = Place.objects.first().organisation
    Membership.objects.get_or_create(user=user, organisation=operator, defaults={"role": "admin"})
    return user


def _postgres_answers() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], help="run one engine (default: both)")
    parser.add_argument("--federation-only", action="store_true",
                        help="only the 10 000-subscription monthly run (scripts/federation.py)")
    args = parser.parse_args()
    VAR.mkdir(exist_ok=True)
    if args.engine is None:
        print(f"Cascade benchmarks — {platform.python_implementation()} {platform.python_version()}, "
              f"{platform.machine()}, {os.cpu_count()} CPU, {date.today()}, {args.runs} runs each")
        engines = ["sqlite"] + (["postgres"] if shutil.which("pg_isready") and _postgres_answers() else [])
        for engine in engines:
            subprocess.run([sys.executable, __file__, "--engine", engine, "--runs", str(args.runs),
                            *(["--federation-only"] if args.federation_only else [])], check=True)
        return
    if args.engine == "sqlite":
        TEMPLATE.unlink(missing_ok=True)
        template_url = url = f"sqlite:///{TEMPLATE}"
        url = f"sqlite:///{DB}"
    else:
        name = f"cascade_bench_{os.getpid()}"
        template_url = url = f"postgres://postgres@127.0.0.1:5432/{name}"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    env = {**os.environ, "DATABASE_URL": template_url, "MEDIA_ROOT": str(VAR / "bench-media")}
    os.environ["MEDIA_ROOT"] = env["MEDIA_ROOT"]
    try:
        subprocess.run([sys.executable, "-m", "cascade", "migrate", "--noinput", "-v", "0"], check=True, env=env)
        _setup(url)
        if not args.federation_only:
            run(args.engine, args.runs)
        _fresh_database(args.engine)
        federation.run(args.engine)
    finally:
        if args.engine == "postgres":
            from django.db import connections

            connections.close_all()
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE {name}"])


if __name__ == "__main__":
    main()
