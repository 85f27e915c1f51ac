from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cascade.signing.keys import trust_roots
from cascade.signing.models import RequestState, SignatureRequest


class Command(BaseCommand):
    help = "Write every signed PDF into DIR, and Cascade's CA certificate as DIR/ca.pem, so anyone can check them."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="the directory to write into (created if needed)")

    def handle(self, *args, **options):
        out = Path(options["out"])
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"{out}: cannot be created ({error.strerror})") from None
        roots = trust_roots()
        if not roots:
            raise CommandError("Cascade has no certificate authority yet: run `cascade migrate` first")
        (out / "ca.pem").write_bytes(b"".join(roots))
        count = 0
        signed = SignatureRequest.objects.filter(state=RequestState.SIGNED).select_related("organisation")
        for request in signed.order_by("organisation__slug", "reference"):
            folder = out / request.organisation.slug
            folder.mkdir(exist_ok=True)
            with request.signed_document.open("rb") as f:
                (folder / f"{request.reference}.pdf").write_bytes(f.read())
            count += 1
        self.stdout.write(f"{count} signed PDF(s) and ca.pem written to {out}")
