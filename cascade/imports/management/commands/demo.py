from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cascade.accounts.models import Membership, Organisation, Role
from cascade.billing.actions import bill_until
from cascade.billing.models import InvoiceSend, SendStatus
from cascade.contracts.demo import sign_demo_conventions
from cascade.imports.services import import_workbook
from cascade.ledger.posting import post_pending
from cascade.payments.demo import record_demo_direct_debit, record_demo_history, sign_demo_mandates
from cascade.payments.deposits import call_due_deposits, receive_deposit
from cascade.payments.models import Deposit

DEMO_WORKBOOK = Path(__file__).resolve().parents[3] / "demo" / "operator-workbook.xlsx"
DEMO_EMAIL = "demo@cascade.example.org"
DEMO_PASSWORD = "cascade-demo"


class Command(BaseCommand):
    help = "Load the demo site from the shipped workbook when the database is empty, bill up to today."

    def handle(self, *args, **options):
        loaded = not Organisation.objects.exists()
        if loaded:
            report = import_workbook(str(DEMO_WORKBOOK))
            if report.faults:
                raise CommandError(f"the demo workbook has {len(report.faults)} fault(s)")
            self.stdout.write("Demo site loaded: " + ", ".join(f"{n} {k}" for k, n in report.counts.items()))
            User = get_user_model()
            user = User.objects.filter(username=DEMO_EMAIL).first() or User.objects.create_user(
                username=DEMO_EMAIL, email=DEMO_EMAIL, password=DEMO_PASSWORD,
                first_name="Camille", last_name="Démo", is_staff=True, is_superuser=True)
            Membership.objects.get_or_create(user=user, organisation=report.operator,
                                             defaults={"role": Role.ADMIN})
            made = sign_demo_conventions(report.operator, user, timezone.localdate())
            self.stdout.write(f"Demo signatures: {len(made)} convention(s) and amendment(s) taken through the "
                              f"signing flow.")
        today = timezone.localdate()
        run = bill_until(today)
        self.stdout.write(f"Billed up to {today}: {len(run.issued)} invoice(s) issued.")
        if loaded:
            collection = sign_demo_mandates(report.operator, user, today)
            if collection:
                self.stdout.write(f"Demo SEPA mandates: 2; debits announced, collect them with `cascade export_sepa "
                                  f"--collection-date {collection} --out batch.xml`.")
        if loaded:
            # The demo's occupants are invented: its invoices are history, not e-mails to send.
            InvoiceSend.objects.filter(status=SendStatus.PENDING).update(
                status=SendStatus.SKIPPED, last_error="démo : historique, non envoyé par e-mail")
            # An occupant's October direct debit, which November's statement (cascade/demo/releve-2026-11.*)
            # brings back unpaid.
            debit = record_demo_direct_debit(report.operator)
            if debit is not None:
                self.stdout.write(f"Demo direct debit: {debit.reference}, {debit.amount} € from {debit.payer.name}.")
            paid, late = record_demo_history(report.operator)
            self.stdout.write(f"Demo payments before November: {paid}; late payers: {', '.join(late)}. Import "
                              f"November's statement: `cascade import_statement "
                              f"cascade/demo/releve-2026-11.camt053.xml --organisation {report.operator.slug}`.")
        called = call_due_deposits(today)
        if loaded:
            # The demo's occupants paid their deposit when they entered.
            for deposit in Deposit.objects.filter(received_on__isnull=True):
                receive_deposit(deposit, received_on=deposit.called_on)
        posted = post_pending()
        self.stdout.write(f"{called} deposit(s) called, {posted} ledger entr(y/ies) posted.")
        for refusal in run.refused:
            self.stderr.write(f"Not billed: {refusal}")
        self.stdout.write(self.style.SUCCESS(
            f"\n  Cascade: http://127.0.0.1:{_port()}/\n  Login: {DEMO_EMAIL}\n  Password: {DEMO_PASSWORD}\n"))


def _port() -> str:
    from django.conf import settings

    return str(settings.PORT)
