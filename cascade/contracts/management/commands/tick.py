import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cascade.contracts.alerts import send_end_notices
from cascade.dates import DateInputError, parse_day
from cascade.signing.actions import remind_and_expire


class Command(BaseCommand):
    help = ("The daily pass, safe to run as often as wanted (cron): signature reminders and expiries, alerts "
            "before conventions end.")

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the day to act as (YYYY-MM-DD); default: today, Europe/Paris")
        parser.add_argument("--json", action="store_true", help="print what was done as one JSON object")

    def handle(self, *args, **options):
        now = timezone.now()
        if options["today"]:
            try:
                day = parse_day(options["today"])
            except DateInputError as error:
                raise CommandError(f"--today: {error}") from None
            # The same time of day, on that day (Europe/Paris).
            now = timezone.make_aware(datetime.combine(day, timezone.localtime(now).time()))
        today = timezone.localdate(now)
        done = remind_and_expire(now)
        done["end_notices"] = send_end_notices(today)
        if options["json"]:
            self.stdout.write(json.dumps(done))
        else:
            self.stdout.write(f"{done['reminded']} reminder(s), {done['expired']} expired request(s), "
                              f"{done['end_notices']} end-of-convention alert(s).")
