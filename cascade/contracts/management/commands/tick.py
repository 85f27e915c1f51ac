import json
import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from cascade.billing.actions import bill_until
from cascade.billing.sending import send_due
from cascade.contracts.alerts import send_end_notices
from cascade.dates import DateInputError, parse_day
from cascade.ledger.posting import post_pending
from cascade.payments.debits import send_prenotifications
from cascade.payments.deposits import call_due_deposits
from cascade.payments.mandates import lapse_mandates
from cascade.payments.reminders import send_reminders
from cascade.signing.actions import remind_and_expire


class Command(BaseCommand):
    help = ("The periodic pass, safe to run as often as wanted (cron): issue the invoices due, e-mail those "
            "not sent yet, payment reminders by each "
            "organisation's dunning plan, signature reminders and expiries, "
            "alerts before conventions end, direct debit pre-notifications, mandates lapsed after 36 months without "
            "a debit, deposits called at entry, everything posted to the ledger.")

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the day to act as (YYYY-MM-DD); default: today, Europe/Paris")
        parser.add_argument("--json", action="store_true", help="print what was done as one JSON object")
        parser.add_argument("--every", type=int, metavar="SECONDS",
                            help="run again every SECONDS, until stopped (what `make run` does)")

    def handle(self, *args, **options):
        if options["every"] is not None and options["every"] < 1:
            raise CommandError("--every: a number of seconds, at least 1")
        while True:
            done = self.tick(options["today"])
            if options["json"]:
                self.stdout.write(json.dumps(done))
            else:
                self.stdout.write(f"{timezone.localtime():%d/%m/%Y %H:%M} — {done['issued']} document(s) issued, "
                                  f"{done['sent']} e-mailed ({done['send_failed']} failed), "
                                  f"{done['payment_reminders']} payment reminder(s) "
                                  f"({done['payment_reminders_failed']} failed), {done['reminded']} "
                                  f"signature reminder(s), {done['expired']} expired request(s), "
                                  f"{done['end_notices']} end-of-convention alert(s), "
                                  f"{done['prenotifications']} direct debit pre-notification(s), "
                                  f"{done['mandates_lapsed']} mandate(s) lapsed, "
                                  f"{done['deposits_called']} deposit(s) called, {done['posted']} ledger entr(y/ies) "
                                  f"posted.")
            if not options["every"]:
                return
            close_old_connections()
            time.sleep(options["every"])

    def tick(self, day: str | None) -> dict[str, int]:
        now = timezone.now()
        if day:
            try:
                # The same time of day, on that day (Europe/Paris).
                now = timezone.make_aware(datetime.combine(parse_day(day), timezone.localtime(now).time()))
            except DateInputError as error:
                raise CommandError(f"--today: {error}") from None
        today = timezone.localdate(now)
        run = bill_until(today)
        for refusal in run.refused:
            self.stderr.write(f"Not billed: {refusal}")
        done = {"issued": len(run.issued), **send_due(now),
                **send_reminders(today, now), **remind_and_expire(now)}
        done["end_notices"] = send_end_notices(today)
        done["mandates_lapsed"] = lapse_mandates(today)
        done["prenotifications"] = send_prenotifications(today)
        done["deposits_called"] = call_due_deposits(today)
        # Last: what was issued, paid or called above is in the ledger when the pass ends.
        done["posted"] = post_pending()
        return done
