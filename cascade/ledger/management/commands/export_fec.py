from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cascade.accounts.models import Organisation, OrganisationKind
from cascade.dates import FIRST_YEAR, LAST_YEAR
from cascade.ledger.exports import export_fec
from cascade.ledger.fec import FecError
from cascade.ledger.models import Entry


def checked_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CommandError(f"--year: {year} is out of range (years {FIRST_YEAR} to {LAST_YEAR})")
    return year


def write(path: Path, content: bytes) -> None:
    """Write a regular file, or say clearly why not."""
    if path.exists() and not path.is_file():
        raise CommandError(f"--out: {path} exists and is not a regular file")
    try:
        path.write_bytes(content)
    except OSError as error:
        raise CommandError(f"--out: cannot write {path}: {error.strerror}") from None


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
        year, folder = checked_year(year), Path(out)
        files = []
        # Every file is made before any is written: one refused, none written.
        for org in organisations(organisation):
            try:
                name, content = export_fec(org, year)  # posts what is pending first
            except FecError as error:
                if organisation or Entry.objects.filter(organisation=org, date__year=year).exists():
                    raise CommandError(f"{org.name}: {error}") from None
                content = b""
            if not Entry.objects.filter(organisation=org, date__year=year).exists():
                if organisation:
                    raise CommandError(f"{org.name}: no entry in {year}, no FEC to write")
                self.stdout.write(f"{org.name}: no entry in {year}, no FEC")
                continue
            files.append((org, name, content))
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"--out: cannot create the folder {folder}: {error.strerror}") from None
        for org, name, content in files:
            write(folder / name, content)
            lines = content.count(b"\n") - 1
            self.stdout.write(f"{org.name}: {folder / name} ({lines} line(s))")
