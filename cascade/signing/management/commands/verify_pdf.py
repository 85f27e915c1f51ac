from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cascade.signing import keys, pades, sealing


class Command(BaseCommand):
    help = ("Check a signed PDF: sealed by this Cascade, intact, who signed and when. Exit status 1 when it is "
            "altered, unsigned or not sealed by Cascade.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the PDF to check")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error.strerror})") from None
        try:
            result = pades.verify(data, trust_roots=keys.trust_roots())
        except pades.NotAPdf as error:
            raise CommandError(f"{path}: not a PDF document: {error}") from None
        for signature in result.signatures:
            when = timezone.localtime(signature.signing_time).strftime("%d/%m/%Y %H:%M:%S") \
                if signature.signing_time else "?"
            self.stdout.write(
                f"- {signature.field_name}: {signature.signer_name or '?'} — {when}"
                f"{' (timestamped)' if signature.timestamped else ''}\n"
                f"  certificate: {signature.certificate_subject}\n"
                f"  intact: {'yes' if signature.intact and signature.valid else 'NO'}; "
                f"issued by Cascade: {'yes' if signature.trusted else 'NO'}; "
                f"covers the whole file: {'yes' if signature.covers_whole_file else 'no'}")
        for problem in result.problems:
            self.stdout.write(f"! {problem}")
        if not result.signed:
            raise CommandError(f"{path}: NOT SIGNED — this PDF carries no electronic signature")
        if not result.intact:
            raise CommandError(f"{path}: ALTERED — modified after it was signed, or a signature is broken")
        if not result.sealed_by_cascade:
            raise CommandError(f"{path}: NOT CASCADE'S — intact, but not sealed by this Cascade's authority")
        for signer in sealing.signers_of(data):
            when = signer["at"].strftime("%d/%m/%Y %H:%M:%S") if signer["at"] else "?"
            self.stdout.write(f"- signed by {signer['name']} <{signer['email']}> on {when}")
        self.stdout.write(self.style.SUCCESS(f"{path}: sealed by Cascade and intact "
                                             f"({len(result.signatures)} seal(s))"))
