from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.urls import reverse

from cascade.accounts import actions
from cascade.accounts.models import Organisation, Role


class Command(BaseCommand):
    help = ("Invite someone into an organisation by e-mail (e.g. its first administrator after an import); "
            "prints the invitation link too.")

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--organisation", required=True, metavar="ORG",
                            help="the organisation's id, slug or exact name")
        parser.add_argument("--role", default=Role.ADMIN, choices=Role.values, help="default: admin")

    def handle(self, *args, email: str, organisation: str, role: str, **options):
        lookup = Q(slug=organisation) | Q(name__iexact=organisation)
        if organisation.isdigit():
            lookup |= Q(pk=int(organisation))
        found = list(Organisation.objects.filter(lookup)[:2])
        if len(found) != 1:
            raise CommandError(f"--organisation: {'no' if not found else 'more than one'} organisation "
                               f"matches '{organisation}'")
        try:
            invitation = actions.invite_member(found[0], email, role)
        except actions.InvitationError as error:
            raise CommandError(str(error)) from None
        link = settings.SITE_URL.rstrip("/") + reverse("accept_invitation", args=[invitation.token])
        self.stdout.write(f"Invitation sent to {invitation.email} ({role} of {found[0].name}): {link}")
