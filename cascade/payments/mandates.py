"""SEPA mandates, one function per action (atomic, audited): create, send for signature, activate
once signed (through Cascade's signing flow, or on paper with its signature date), revoke, and the
daily lapse of mandates left 36 months without a debit.
"""

from datetime import date

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN, exceptions
from schwifty.exceptions import SchwiftyException

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.formatting import format_date_fr
from cascade.contracts.pdf import render_contract_pdf
from cascade.signing import actions as signing
from cascade.signing.models import RequestState, SignatureRequest
from cascade.signing.signals import request_finished

from .models import Mandate, MandateStatus
from .sepa import add_months, has_latin_letter, ics_problem, normalise_ics, rum_problem

LAPSE_MONTHS = 36  # EPC rulebook: a mandate unused for 36 months expires


class MandateError(Exception):
    """The mandate cannot be made or changed as given; the message says why."""


def check_creditor(creditor: Organisation) -> str:
    """The creditor's ICS, normalised; MandateError when it has none or a wrong one."""
    if not creditor.sepa_creditor_id.strip():
        raise MandateError(_("%(org)s has no SEPA creditor identifier (ICS): enter it in the organisation's "
                             "settings before taking direct debits.") % {"org": creditor.name})
    problem = ics_problem(creditor.sepa_creditor_id)
    if problem == "format":
        raise MandateError(_("The SEPA creditor identifier %(ics)s is not in the format of an ICS (e.g. "
                             "FR12ZZZ123456).") % {"ics": creditor.sepa_creditor_id})
    if problem:
        raise MandateError(_("The SEPA creditor identifier %(ics)s is wrong: its check digits do not match.")
                           % {"ics": creditor.sepa_creditor_id})
    return normalise_ics(creditor.sepa_creditor_id)


def _iban_problem(error: SchwiftyException) -> str:
    if isinstance(error, exceptions.InvalidChecksumDigits):
        return _("its check digits are wrong (a character was mistyped?)")
    if isinstance(error, exceptions.InvalidBBANChecksum):
        return _("its bank account key is wrong")
    if isinstance(error, exceptions.InvalidLength):
        return _("it does not have the length of an IBAN of its country")
    if isinstance(error, exceptions.InvalidCountryCode):
        return _("it does not start with a known country code")
    return _("it is not made like an IBAN of its country")


def checked_iban(value: str) -> IBAN:
    try:
        iban = IBAN(value, validate_bban=True)
    except SchwiftyException as error:
        raise MandateError(_("The IBAN %(iban)s is not valid: %(why)s.") % {"iban": value,
                                                                           "why": _iban_problem(error)}) from None
    if not iban.in_sepa_zone:
        raise MandateError(_("The IBAN %(iban)s is not in the SEPA zone.") % {"iban": value})
    return iban


def checked_bic(value: str, iban: IBAN) -> str:
    """The BIC given, or the one of the IBAN's bank when schwifty knows it, or "" (not required in SEPA)."""
    if value.strip():
        try:
            return str(BIC(value.strip()))
        except SchwiftyException:
            raise MandateError(_("The BIC %(bic)s is not valid.") % {"bic": value}) from None
    try:
        return str(iban.bic) if iban.bic else ""
    except SchwiftyException:
        return ""


def check_rum(rum: str) -> None:
    problem = rum_problem(rum)
    if problem == "empty":
        raise MandateError(_("A mandate needs its reference (RUM)."))
    if problem == "too long":
        raise MandateError(_("The mandate reference (RUM) has %(n)s characters; at most 35 are allowed.")
                           % {"n": len(rum)})
    if problem:
        raise MandateError(_("The mandate reference (RUM) %(rum)s holds characters SEPA refuses: only letters "
                             "without accents, digits, spaces and + ? / - : ( ) . , ' are allowed.") % {"rum": rum})


def next_rum(creditor: Organisation, debtor: Organisation) -> str:
    """A new reference for a mandate of `debtor`: `<creditor id>-<debtor id>-<n>`."""
    taken = Mandate.objects.filter(creditor=creditor, debtor=debtor).count()
    while True:
        taken += 1
        rum = f"CASC-{creditor.pk}-{debtor.pk}-{taken}"
        if not Mandate.objects.filter(creditor=creditor, rum=rum).exists():
            return rum


@transaction.atomic
def create_mandate(creditor: Organisation, debtor: Organisation, *, iban: str, bic: str = "", rum: str = "",
                   debtor_name: str = "", debtor_address: str | None = None, recurrent: bool = True,
                   signed_on: date | None = None, acting_user=None) -> Mandate:
    """A mandate of `debtor` to `creditor`: active at once when signed on paper (`signed_on`),
    waiting for signature otherwise (send_for_signature)."""
    check_creditor(creditor)
    if debtor.operator_id != creditor.pk:
        raise MandateError(_("A mandate is given by one of the organisation's occupants."))
    rum = rum.strip() or next_rum(creditor, debtor)
    check_rum(rum)
    if Mandate.objects.filter(creditor=creditor, rum=rum).exists():
        raise MandateError(_("The mandate reference (RUM) %(rum)s is already used.") % {"rum": rum})
    account = checked_iban(iban)
    name = " ".join((debtor_name or debtor.name).split())
    if not name:
        raise MandateError(_("A mandate needs the account holder's name."))
    if not has_latin_letter(name):
        raise MandateError(_("The account holder’s name “%(name)s” must contain Latin letters (SEPA character "
                             "set): write it as the bank knows it.") % {"name": name})
    if signed_on is not None and signed_on > timezone.localdate():
        raise MandateError(_("The signature date %(date)s is in the future.") % {"date": format_date_fr(signed_on)})
    mandate = Mandate.objects.create(
        creditor=creditor, debtor=debtor, rum=rum, debtor_name=name[:140],
        debtor_address=debtor.address if debtor_address is None else debtor_address, iban=account.compact,
        bic=checked_bic(bic, account), recurrent=recurrent, signed_on=signed_on,
        status=MandateStatus.ACTIVE if signed_on else MandateStatus.PENDING,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None)
    record("mandate.created", organisation=creditor, actor=acting_user, obj=mandate, rum=rum, debtor=debtor.name,
           signed_on=signed_on.isoformat() if signed_on else None)
    return mandate


@transaction.atomic
def activate_mandate(mandate: Mandate, *, signed_on: date | None, acting_user=None) -> Mandate:
    """A mandate signed on paper: active from its signature date."""
    mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
    if signed_on is None:
        raise MandateError(_("The mandate %(rum)s needs its signature date before it can be used.")
                           % {"rum": mandate.rum})
    if signed_on > timezone.localdate():
        raise MandateError(_("The signature date %(date)s is in the future.") % {"date": format_date_fr(signed_on)})
    if mandate.status != MandateStatus.PENDING:
        raise MandateError(_("Only a mandate waiting for its signature can be activated; this one is %(status)s.")
                           % {"status": mandate.get_status_display()})
    mandate.signed_on, mandate.status = signed_on, MandateStatus.ACTIVE
    mandate.save(update_fields=["signed_on", "status"])
    record("mandate.activated", organisation=mandate.creditor, actor=acting_user, obj=mandate, rum=mandate.rum,
           signed_on=signed_on.isoformat())
    return mandate


@transaction.atomic
def revoke_mandate(mandate: Mandate, *, on: date, final_debit: bool = False, acting_user=None) -> Mandate:
    """End a mandate: at once, or after one last debit (FNAL) when `final_debit`."""
    mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
    if mandate.status not in (MandateStatus.ACTIVE, MandateStatus.PENDING):
        raise MandateError(_("This mandate is already %(status)s.") % {"status": mandate.get_status_display()})
    # After a last debit: when the mandate was debited, or documents were announced to be debited under it
    # (their debit is then the final one, FNAL); at once otherwise.
    announced = mandate.prenotifications.filter(invoice__direct_debit__isnull=True).exists()
    if (final_debit and mandate.status == MandateStatus.ACTIVE and mandate.recurrent
            and (mandate.last_debit_on or announced)):
        mandate.final_requested = True
        mandate.save(update_fields=["final_requested"])
    else:
        mandate.status, mandate.ended_on = MandateStatus.REVOKED, on
        mandate.save(update_fields=["status", "ended_on"])
    record("mandate.revoked", organisation=mandate.creditor, actor=acting_user, obj=mandate, rum=mandate.rum,
           final_debit=mandate.final_requested)
    return mandate


def lapse_date(mandate: Mandate) -> date | None:
    """The day an active mandate lapses: 36 months after its last debit, or its signature when never used."""
    start = mandate.last_debit_on or mandate.signed_on
    return add_months(start, LAPSE_MONTHS) if start else None


def lapse_mandates(today: date) -> int:
    """The daily pass (`cascade tick`): mandates 36 months without a debit lapse. Returns how many did."""
    lapsed = 0
    for mandate in Mandate.objects.filter(status=MandateStatus.ACTIVE).select_related("creditor"):
        end = lapse_date(mandate)
        if end is None or end > today:
            continue
        with transaction.atomic():
            changed = Mandate.objects.filter(pk=mandate.pk, status=MandateStatus.ACTIVE).update(
                status=MandateStatus.LAPSED, ended_on=end)
            if changed:
                record("mandate.lapsed", organisation=mandate.creditor, obj=mandate, rum=mandate.rum,
                       last_debit_on=mandate.last_debit_on.isoformat() if mandate.last_debit_on else None)
                lapsed += 1
    return lapsed


# ---------------------------------------------------------------- the mandate document


AUTHORISATION = (
    "En signant ce formulaire de mandat, vous autorisez {creditor} à envoyer des instructions à votre banque "
    "pour débiter votre compte, et votre banque à débiter votre compte conformément aux instructions de "
    "{creditor}. Vous bénéficiez du droit d’être remboursé par votre banque selon les conditions décrites "
    "dans la convention que vous avez passée avec elle. Une demande de remboursement doit être présentée dans "
    "les 8 semaines suivant la date de débit de votre compte pour un prélèvement autorisé, et sans tarder et "
    "au plus tard dans les 13 mois en cas de prélèvement non autorisé.")
RIGHTS = ("Vos droits concernant le présent mandat sont expliqués dans un document que vous pouvez obtenir "
          "auprès de votre banque. Vous serez informé(e) du montant et de la date de chaque prélèvement au moins "
          "{days} jours avant celui-ci.")


def _para(text: str, bold: bool = False) -> dict:
    return {"type": "paragraph", "runs": [{"text": text, "bold": bold}]}


def mandate_blocks(mandate: Mandate, signer_name: str = "", signer_quality: str = "",
                   mention: str = "Signé électroniquement") -> list[dict]:
    creditor = mandate.creditor
    payment = "Paiement récurrent / répétitif" if mandate.recurrent else "Paiement ponctuel"
    return [
        {"type": "title", "text": "Mandat de prélèvement SEPA"},
        _para(AUTHORISATION.format(creditor=creditor.name)),
        _para(RIGHTS.format(days=creditor.sepa_prenotification_days)),
        {"type": "table", "columns": ["Mandat", ""], "rows": [
            ["Référence unique du mandat (RUM)", mandate.rum], ["Type de paiement", payment]]},
        {"type": "heading", "runs": [{"text": "Créancier"}]},
        {"type": "table", "columns": ["Créancier", ""], "rows": [
            ["Nom", creditor.name], ["Identifiant créancier SEPA (ICS)", creditor.sepa_creditor_id],
            ["Adresse", " ".join(creditor.address.split())]]},
        {"type": "heading", "runs": [{"text": "Débiteur"}]},
        {"type": "table", "columns": ["Débiteur", ""], "rows": [
            ["Titulaire du compte", mandate.debtor_name], ["Adresse", " ".join(mandate.debtor_address.split())],
            ["IBAN", " ".join(mandate.iban[i:i + 4] for i in range(0, len(mandate.iban), 4))],
            ["BIC", mandate.bic or "—"]]},
        {"type": "signatures", "mention": mention, "signers": [
            {"party": "Le débiteur", "organisation": mandate.debtor.name, "name": signer_name,
             "quality": signer_quality}]},
    ]


def mandate_pdf(mandate: Mandate, signer_name: str = "", signer_quality: str = "", *,
                for_signature: bool = False) -> bytes:
    """The mandate document: as sent for signature, or (to read it) as it stands: a draft, or a copy
    of a mandate signed on paper."""
    banner, mention = None, "Signé électroniquement"
    if not for_signature and mandate.signed_on and not mandate.signature_request_id:
        banner = "Mandat signé hors Cascade (sur papier) — exemplaire établi pour mémoire"
        mention = f"Signé sur papier le {format_date_fr(mandate.signed_on)} (original conservé par le créancier)"
    elif not for_signature and mandate.status == MandateStatus.PENDING:
        banner, mention = "PROJET — document non signé", "À signer"
    return render_contract_pdf(mandate_blocks(mandate, signer_name, signer_quality, mention),
                               title="Mandat de prélèvement SEPA", reference=mandate.rum,
                               organisation=mandate.creditor.name, date=timezone.localdate(mandate.created_at),
                               banner=banner)


@transaction.atomic
def send_for_signature(mandate: Mandate, signer: signing.SignerSpec, *, acting_user=None) -> SignatureRequest:
    """The mandate PDF, sent to the debtor's signer through Cascade's signing flow; the mandate
    becomes active, signed on the day of the signature, when the request is signed."""
    mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
    if mandate.status != MandateStatus.PENDING or (mandate.signature_request_id and \
            mandate.signature_request.state == RequestState.TO_SIGN):
        raise MandateError(_("Only a mandate waiting for its signature can be sent for signature."))
    pdf = mandate_pdf(mandate, signer.name, signer.quality, for_signature=True)
    try:
        request = signing.create_request(
            mandate.creditor, title=f"Mandat de prélèvement SEPA {mandate.rum} — {mandate.debtor.name}"[:200],
            document=pdf, file_name=f"mandat-{mandate.rum}.pdf".replace(" ", "-").replace("/", "-"),
            signers=[signer], acting_user=acting_user)
        signing.send_request(request, acting_user=acting_user)
    except signing.SigningError as error:
        raise MandateError(str(error)) from error
    mandate.signature_request = request
    mandate.save(update_fields=["signature_request"])
    record("mandate.sent", organisation=mandate.creditor, actor=acting_user, obj=mandate, rum=mandate.rum,
           request=request.reference)
    return request


@receiver(request_finished, dispatch_uid="payments.mandate_request_finished")
def on_request_finished(sender, request: SignatureRequest, **kwargs) -> None:
    mandate = Mandate.objects.filter(signature_request=request, status=MandateStatus.PENDING).first()
    if mandate is None:
        return
    if request.state == RequestState.SIGNED:
        mandate.status, mandate.signed_on = MandateStatus.ACTIVE, timezone.localdate(request.completed_at)
    else:
        mandate.status = MandateStatus.NOT_SIGNED
    mandate.save(update_fields=["status", "signed_on"])
    record(f"mandate.{mandate.status}", organisation=mandate.creditor, obj=mandate, rum=mandate.rum)
