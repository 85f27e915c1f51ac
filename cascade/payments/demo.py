"""SEPA mandates of the demo site: two occupants with an IBAN pay by direct debit, one mandate
signed through Cascade's signing flow (today), the other signed on paper two months ago; their
open documents are announced (pre-notification e-mails kept in memory), so that
`cascade export_sepa --collection-date <the date announced>` has a batch to write.
"""

from datetime import date, timedelta

from django.db.models import Max
from django.test import override_settings

from cascade.accounts.models import Organisation, OrganisationKind
from cascade.contracts.demo import _sign
from cascade.signing.actions import SignerSpec
from cascade.signing.models import Party

from . import mandates
from .debits import send_prenotifications
from .models import PreNotification


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def sign_demo_mandates(operator: Organisation, manager, today: date) -> date | None:
    """Make the two mandates and announce the debits; returns the latest debit date announced."""
    if not operator.sepa_creditor_id or not operator.iban:
        return None
    occupants = list(Organisation.objects.filter(operator=operator, kind=OrganisationKind.OCCUPANT,
                                                 received_invoices__isnull=False).exclude(iban="")
                     .distinct().order_by("name")[:2])
    if len(occupants) < 2:
        return None
    first, second = occupants
    mandate = mandates.create_mandate(operator, first, iban=first.iban, acting_user=manager)
    signer_name = first.contact_name or first.name
    request = mandates.send_for_signature(mandate, SignerSpec(signer_name, first.email, Party.OCCUPANT,
                                                              "Titulaire du compte", first), acting_user=manager)
    _sign(request.signers.get())
    mandates.create_mandate(operator, second, iban=second.iban, signed_on=today - timedelta(days=60),
                            acting_user=manager)
    send_prenotifications(today)
    return PreNotification.objects.filter(mandate__creditor=operator).aggregate(d=Max("debit_on"))["d"]
