from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cascade.accounts.models import Organisation, OrganisationKind
from cascade.ledger.exports import export_fec
from cascade.ledger.fec import FecError
from cascade.ledger.models import Entry
from cascade.ledger.posting import post_pending


def organisations(slug: str | None) -> list[Organisation]:
    """The organisation named, or every operator."""
    if slug:
        found = Organisation.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"--organisation: no organisation {slug!r}")
        return [found]
    return list(Organisation.objects.filter(kind=OrganisationKind.OPERATOR).order_by("pk"))


class Command(BaseCommand):
    help = ("Write the FEC (fichier des écritures comptables) of a fiscal year: DIR/<SIREN>FEC<YYYYMMDD>.txt per "
            "organisation, after posting what is pending.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="the fiscal year (the calendar year)")
        parser.add_argument("--out", required=True, help="the directory to write into (created if needed)")
        parser.add_argument("--organisation", help="the organisation's slug; default: every operator")

    def handle(self, *args, year: int, out: str, organisation: str | None, **options):
        folder = Path(out)
        files = []
        # Every file is made before any is written: one refused, none written.
        for org in organisations(organisation):
            post_pending(org)
            if not organisation and not Entry.objects.filter(organisation=org, date__year=year).exists():
                self.stdout.write(f"{org.name}: no entry in {year}, no FEC")
                continue
            try:
                files.append((org, *export_fec(org, year)))
            except FecError as error:
                raise CommandError(f"{org.name}: {error}") from None
        folder.mkdir(parents=True, exist_ok=True)
        for org, name, content in files:
            (folder / name).write_bytes(content)
            lines = content.count(b"\n") - 1
            self.stdout.write(f"{org.name}: {folder / name} ({lines} line(s))")
