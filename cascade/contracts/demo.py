"""Conventions and amendments of the demo site, taken through the real signing flow (the same
actions as the pages call: link opened, code sent and verified, consent, typed name), so that the
demo shows signed, refused and pending documents with their evidence.

Three new occupants take vacant spaces of the place with the longest convention, from the first
day of the first month (this one or one of the next three) when enough of its spaces are free:
- the first signs its convention (insurance certificate uploaded and validated), then an
  amendment raising its fee from the first day of next month, signed;
- the second signs its convention, then refuses an amendment adding a space;
- the third has its convention sent and not signed yet.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from cascade.accounts.actions import unique_slug
from cascade.accounts.models import Organisation, OrganisationKind
from cascade.places.models import Place, Resource
from cascade.signing import actions as signing
from cascade.signing.models import Party, Signer
from cascade.subscriptions import actions as subscriptions
from cascade.subscriptions import documents
from cascade.subscriptions.models import ComponentKind, RequiredDocument, SubscriptionTemplate, SubscriptionVersion

from . import actions
from .pdf import render_contract_pdf

DEMO_BROWSER = signing.Client(ip="127.0.0.1", user_agent="Cascade demo (service layer)")


@dataclass(frozen=True)
class Newcomer:
    name: str
    legal_form: str
    siret: str
    representative: str
    title: str
    email: str
    rent: Decimal
    fluids: Decimal


NEWCOMERS = [
    Newcomer("Atelier Lumen", "SCOP SARL", "09281590139629", "Inès Barbier", "Gérante",
             "ines.barbier@atelier-lumen.example.org", Decimal("420.00"), Decimal("45.00")),
    Newcomer("Compagnie des Hautes Herbes", "Association loi 1901", "03340187801755", "Yanis Ferrand", "Président",
             "yanis.ferrand@hautes-herbes.example.org", Decimal("310.00"), Decimal("36.00")),
    Newcomer("Repair Café du Canal", "Association loi 1901", "62889751402612", "Lucie Moreau", "Trésorière",
             "lucie.moreau@repaircafe.example.org", Decimal("180.00"), Decimal("22.50")),
]


def _vacant_spaces(place: Place, start: date, count: int) -> list[Resource]:
    """Rentable spaces without sub-units that nobody holds from `start` on."""
    held = set(SubscriptionVersion.objects.filter(
        subscription__place=place, status__in=subscriptions.HOLDING_STATUSES).exclude(
        exit_date__lt=start).values_list("resources", flat=True))
    free = (Resource.objects.filter(place=place, type__rentable=True, children__isnull=True, valid_until__isnull=True,
                                    surface__isnull=False).exclude(pk__in=held).select_related("type")
            .order_by("reference"))
    return list(free[:count])


def sign_as_demo(signer: Signer, *, uploads: list[RequiredDocument] = ()) -> None:
    """What a signer does on the signing page, through the same actions."""
    signer.refresh_from_db()
    signing.record_view(signer, "opened", DEMO_BROWSER)
    signing.record_view(signer, "document_viewed", DEMO_BROWSER)
    for requirement in uploads:
        _upload(signer, requirement)
    code = signing.send_code(signer, DEMO_BROWSER)
    signing.verify_code(signer, code, DEMO_BROWSER)
    signing.sign(signer, typed_name=signer.name, consent=True, client=DEMO_BROWSER)


def _upload(signer: Signer, requirement: RequiredDocument) -> None:
    from .models import Contract

    contract = Contract.objects.get(signature_request=signer.request)
    certificate = render_contract_pdf(
        [{"type": "title", "text": "Attestation d'assurance responsabilité civile"},
         {"type": "paragraph", "runs": [{"text": f"Assuré : {contract.subscription.subscriber.name}. Locaux : "
                                                 f"{contract.subscription.place.name}.", "bold": False,
                                         "italic": False}]}],
        title="Attestation d'assurance", reference="DEMO", organisation="Mutuelle de démonstration",
        date=date.today())
    upload = SimpleUploadedFile("attestation-assurance.pdf", certificate, content_type="application/pdf")
    document = documents.upload_document(contract.subscription, requirement, upload,
                                         uploaded_by=f"{signer.name} <{signer.email}>")
    signing.log_event_locked(signer.request, "document_uploaded", signer=signer, client=DEMO_BROWSER,
                             requirement=requirement.name, file=document.original_name, sha256=document.sha256)


def _signers(newcomer: Newcomer, occupant: Organisation, operator: Organisation, manager) -> list[signing.SignerSpec]:
    return [signing.SignerSpec(newcomer.representative, newcomer.email, Party.OCCUPANT, newcomer.title, occupant),
            signing.SignerSpec(operator.representative, manager.email, Party.OPERATOR,
                               operator.representative_title, operator)]


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def sign_demo_conventions(operator: Organisation, manager, today: date) -> list:
    """Run the three stories above; returns the contracts made. E-mails are kept in memory."""
    if not operator.representative:
        operator.representative = manager.get_full_name() or manager.email.split("@")[0].title()
        operator.representative_title = "Coordinatrice"
        operator.save(update_fields=["representative", "representative_title"])
    place = Place.objects.filter(organisation=operator, convention_end__gt=today + timedelta(days=150)).order_by(
        "-convention_end").first()
    if place is None:
        return []
    start, spaces = today.replace(day=1), []
    for _month in range(4):
        spaces = _vacant_spaces(place, start, len(NEWCOMERS) + 1)
        if len(spaces) == len(NEWCOMERS) + 1:
            break
        start = (start + timedelta(days=32)).replace(day=1)
    else:
        return []
    insurance, _created = RequiredDocument.objects.get_or_create(
        organisation=operator, name="Attestation d'assurance",
        defaults={"description": "Responsabilité civile et risques locatifs, en cours de validité",
                  "formats": ["pdf", "jpeg", "png"], "max_size_mb": 10})
    template, _created = SubscriptionTemplate.objects.get_or_create(
        organisation=operator, name=f"Convention d'occupation temporaire — {place.name}",
        defaults={"frequency": "monthly", "term": "advance"})
    template.required_documents.add(insurance)
    made = []
    for n, (newcomer, space) in enumerate(zip(NEWCOMERS, spaces, strict=False)):
        occupant = Organisation.objects.create(
            name=newcomer.name, slug=unique_slug(newcomer.name), kind=OrganisationKind.OCCUPANT, operator=operator,
            legal_form=newcomer.legal_form, siret=newcomer.siret, email=newcomer.email,
            representative=newcomer.representative, representative_title=newcomer.title,
            address=f"{place.address}\n(locaux {space.reference})")
        terms = subscriptions.TermsInput(
            entry_date=start, exit_date=place.convention_end, frequency="monthly", term="advance",
            resources=[space], amounts={ComponentKind.RENT: newcomer.rent, ComponentKind.FLUIDS: newcomer.fluids})
        subscription, convention = subscriptions.create_subscription(
            operator, subscriber=occupant, place=place, template=template, terms=terms,
            deposit=newcomer.rent, acting_user=manager)
        request = actions.send_for_signature(convention, _signers(newcomer, occupant, operator, manager),
                                             acting_user=manager)
        made.append(convention)
        if n == 2:
            continue  # the third one waits for its signature
        occupant_signer, operator_signer = request.signers.order_by("order")
        sign_as_demo(occupant_signer, uploads=[insurance])
        sign_as_demo(operator_signer)
        for document in subscription.documents.all():
            documents.review_document(document, valid=True, acting_user=manager)
        change = subscriptions.terms_from_version(subscription.current_version)
        change.effective_from = (start + timedelta(days=32)).replace(day=1)
        if n == 0:
            change.amounts[ComponentKind.RENT] = (newcomer.rent * Decimal("1.05")).quantize(Decimal("0.01"))
        else:
            change.resources = [*change.resources, spaces[-1]]
            change.amounts[ComponentKind.RENT] = newcomer.rent + Decimal("150.00")
        amendment = subscriptions.propose_version(subscription, change, acting_user=manager)
        request = actions.send_for_signature(amendment, _signers(newcomer, occupant, operator, manager),
                                             acting_user=manager)
        made.append(amendment)
        occupant_signer, operator_signer = request.signers.order_by("order")
        if n == 0:
            sign_as_demo(occupant_signer)
            sign_as_demo(operator_signer)
        else:
            occupant_signer.refresh_from_db()
            signing.record_view(occupant_signer, "opened", DEMO_BROWSER)
            code = signing.send_code(occupant_signer, DEMO_BROWSER)
            signing.verify_code(occupant_signer, code, DEMO_BROWSER)
            signing.refuse(occupant_signer, client=DEMO_BROWSER,
                           reason="Nous ne pouvons pas prendre un second local avant la rentrée.")
    return made
