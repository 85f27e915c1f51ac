import json

from django.core.management.base import BaseCommand, CommandError

from cascade.dates import DateInputError, parse_day
from cascade.places.models import Place
from cascade.places.occupancy import place_vacancy


class Command(BaseCommand):
    help = "Vacancy of every place on a date: counts, rates and the cost of the month's vacancy."

    def add_arguments(self, parser):
        parser.add_argument("--on", required=True, metavar="DATE", help="YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="print a JSON list (the default output)")

    def handle(self, *args, on: str, **options):
        try:
            day = parse_day(on)
        except DateInputError as error:
            raise CommandError(f"--on: {error}") from None
        rows = []
        for place in Place.objects.select_related("organisation").order_by("organisation__name", "name"):
            figures = place_vacancy(place, day)
            rate_surface = figures["vacancy_rate_surface"]
            rows.append({
                **figures,
                "vacancy_rate_count": float(figures["vacancy_rate_count"]),
                "vacancy_rate_surface": float(rate_surface) if rate_surface is not None else None,
                "vacancy_cost_month": f"{figures['vacancy_cost_month']:.2f}",
            })
        self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
