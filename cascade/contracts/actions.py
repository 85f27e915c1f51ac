"""Contracts: templates edited and versioned, documents generated from subscription versions, sent
for signature, and what a finished signature does to the version it carries."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.formatting import format_date_fr
from cascade.signing import actions as signing
from cascade.signing.models import RequestState, SignatureRequest
from cascade.signing.signals import request_finished
from cascade.subscriptions.models import ContractKind, Subscription, SubscriptionVersion, VersionStatus

from . import rendering
from .changes import differences
from .context import amendment_variables, contract_context, signer_entry, version_terms
from .models import AMENDMENT, Contract, ContractStatus, DocumentTemplate, DocumentTemplateVersion
from .pdf import LayoutError, render_contract_pdf
from .variables import sample_context

SIGNED_OUTSIDE_BANNER = "Convention signée hors Cascade (sur papier) — exemplaire établi pour mémoire"
DRAFT_BANNER = "PROJET — document non signé"
PAPER_MENTION = "Signé sur papier (original conservé par les parties)"
DRAFT_MENTION = "À signer électroniquement"


class ContractError(Exception):
    """The document cannot be generated or sent as asked; the message says why."""


# ---------------------------------------------------------------- templates


def ensure_default_templates(organisation: Organisation) -> dict[str, DocumentTemplate]:
    """The organisation's template of each kind, the default text shipped with Cascade when it has none."""
    templates = {t.kind: t for t in DocumentTemplate.objects.filter(organisation=organisation)}
    for kind, label in [*ContractKind.choices, (AMENDMENT, _("Amendment"))]:
        if kind in templates:
            continue
        template = DocumentTemplate.objects.create(organisation=organisation, kind=kind, name=str(label))
        DocumentTemplateVersion.objects.create(template=template, number=1,
                                               body=rendering.default_template_text(kind))
        templates[kind] = template
    return templates


@transaction.atomic
def save_template(template: DocumentTemplate, body: str, *, acting_user=None) -> DocumentTemplateVersion:
    """A new version of the template; refused with every problem when the text is not sound."""
    template = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
    problems = rendering.check_template(body)
    if not problems:
        try:  # what the text says must also fit on the page
            sample = sample_context(template.kind)
            render_contract_pdf(rendering.render_blocks(body, sample), title=sample["document"]["titre"],
                                reference=sample["document"]["reference"], organisation=template.organisation.name,
                                date=timezone.localdate())
        except LayoutError as error:
            problems = [str(error)]
    if problems:
        raise ContractError(" ".join(problems))
    latest = template.latest
    if latest is not None and latest.body == body:
        return latest
    version = DocumentTemplateVersion.objects.create(
        template=template, number=(latest.number if latest else 0) + 1, body=body,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None)
    record("template.saved", organisation=template.organisation, actor=acting_user, obj=template,
           version=version.number)
    return version


# ---------------------------------------------------------------- documents


def _kind_and_amendment(version: SubscriptionVersion) -> tuple[str, dict | None, int | None]:
    """An avenant when another version is in force (it lists what changes), else the convention."""
    subscription = version.subscription
    current = subscription.current_version
    if current is None or current.pk == version.pk:
        kind = subscription.template.contract_kind if subscription.template else ContractKind.TEMPORARY
        return kind, None, None
    # Every amendment sent keeps its number, even refused: two documents never share a reference.
    # Only a draft discarded before it was sent leaves its number free.
    numbered = Contract.objects.filter(subscription=subscription, kind=AMENDMENT).exclude(version=version).exclude(
        status=ContractStatus.CANCELLED, signature_request__isnull=True)
    number = numbered.values("version").distinct().count() + 1
    convention = (Contract.objects.filter(subscription=subscription).exclude(kind=AMENDMENT)
                  .filter(status__in=(ContractStatus.SIGNED, ContractStatus.SIGNED_OUTSIDE)).order_by("-pk").first())
    changes = differences(version_terms(current), version_terms(version))
    return AMENDMENT, amendment_variables(number, version, convention, changes), number


def _reference(subscription: Subscription, amendment_number: int | None) -> str:
    return f"{subscription.reference}-A{amendment_number}" if amendment_number else subscription.reference


def _render(contract: Contract, *, banner: str | None = None) -> bytes:
    """The contract's PDF; ContractError when its template cannot draw it (a broken template is
    refused when saved, so this is a safety net)."""
    try:
        blocks = rendering.render_blocks(contract.template_version.body, contract.context)
    except rendering.TemplateError as error:
        raise ContractError(_("The template cannot draw this document: %(why)s") % {"why": error}) from None
    # The boxes of a paper convention's copy say where the original is; a draft's, that it is not signed.
    mention = PAPER_MENTION if contract.status == ContractStatus.SIGNED_OUTSIDE else (
        DRAFT_MENTION if banner == DRAFT_BANNER else None)
    if mention:
        blocks = [{**b, "mention": mention} if b.get("type") == "signatures" else b for b in blocks]
    day = timezone.localdate(contract.created_at) if contract.created_at else timezone.localdate()
    try:
        return render_contract_pdf(blocks, title=contract.title, reference=contract.reference,
                                   organisation=contract.organisation.name, date=day, banner=banner)
    except LayoutError as error:
        raise ContractError(_("The template cannot draw this document: %(why)s") % {"why": error}) from None


def _store_pdf(contract: Contract, pdf: bytes) -> None:
    contract.pdf.save(f"{contract.reference}.pdf", ContentFile(pdf), save=False)
    contract.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    contract.save(update_fields=["pdf", "pdf_sha256"])


@transaction.atomic
def generate_contract(version: SubscriptionVersion, *, acting_user=None) -> Contract:
    """The draft document of a version, from the organisation's current template of its kind."""
    subscription = version.subscription
    kind, amendment, number = _kind_and_amendment(version)
    template = ensure_default_templates(subscription.organisation)[kind]
    reference = _reference(subscription, number)
    context = contract_context(version, kind=kind, reference=reference, day=timezone.localdate(),
                               amendment=amendment)
    contract = Contract.objects.create(
        organisation=subscription.organisation, subscription=subscription, version=version, kind=kind,
        amendment_number=number, reference=reference, title=context["document"]["titre"],
        template_version=template.latest, context=context, changes=(amendment or {}).get("modifications", []),
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None)
    _store_pdf(contract, _render(contract, banner=DRAFT_BANNER))
    record("contract.generated", organisation=contract.organisation, actor=acting_user, obj=contract,
           reference=reference, version=version.number)
    return contract


def signed_outside(version: SubscriptionVersion, templates: dict[str, DocumentTemplateVersion]) -> Contract:
    """The paper convention of an imported subscription, for the record, not saved yet (the
    importer saves them all at once); its PDF is drawn when first asked for, from what is frozen
    here. `templates`: the organisation's latest template version of each kind."""
    subscription = version.subscription
    kind = subscription.template.contract_kind if subscription.template else ContractKind.TEMPORARY
    context = contract_context(version, kind=kind, reference=subscription.reference, day=version.entry_date)
    return Contract(
        organisation=subscription.organisation, subscription=subscription, version=version, kind=kind,
        reference=subscription.reference, title=context["document"]["titre"], template_version=templates[kind],
        context=context, status=ContractStatus.SIGNED_OUTSIDE)


def latest_templates(organisation: Organisation) -> dict[str, DocumentTemplateVersion]:
    return {kind: template.latest for kind, template in ensure_default_templates(organisation).items()}


def contract_pdf(contract: Contract) -> bytes:
    """The document as sent for signature (or, signed outside Cascade, as drawn for the record)."""
    if not contract.pdf:
        banner = SIGNED_OUTSIDE_BANNER if contract.status == ContractStatus.SIGNED_OUTSIDE else DRAFT_BANNER
        _store_pdf(contract, _render(contract, banner=banner))
    with contract.pdf.open("rb") as f:
        return f.read()


@transaction.atomic
def send_for_signature(contract: Contract, signers: list[signing.SignerSpec], *, link_days: int = 14,
                       reminder_days: int = 3, expires_in_days: int = signing.DEFAULT_EXPIRY_DAYS,
                       acting_user=None) -> SignatureRequest:
    """Freeze the document with its signers named in it, and send it to the first of them."""
    from cascade.subscriptions.actions import SubscriptionError, check_still_free

    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != ContractStatus.DRAFT:
        raise ContractError(_("Only a draft can be sent for signature; this one is %(status)s.")
                            % {"status": contract.get_status_display()})
    try:
        check_still_free(contract.version)
    except SubscriptionError as error:
        raise ContractError(str(error)) from error
    labels = {"occupant": "L'occupant", "operator": "L'opérateur"}
    contract.context = {**contract.context, "signataires": [
        signer_entry(labels[s.party], s.organisation.name if s.organisation else "", s.name.strip(), s.quality.strip())
        for s in signers]}
    contract.save(update_fields=["context"])
    pdf = _render(contract)
    try:
        request = signing.create_request(
            contract.organisation, title=f"{contract.title} — {contract.subscription.subscriber}"[:200],
            document=pdf, file_name=f"{contract.reference}.pdf", signers=signers, link_days=link_days,
            reminder_days=reminder_days, expires_in_days=expires_in_days, acting_user=acting_user)
        signing.send_request(request, acting_user=acting_user)
    except signing.SigningError as error:
        raise ContractError(str(error)) from error
    _store_pdf(contract, pdf)
    contract.signature_request, contract.status = request, ContractStatus.TO_SIGN
    contract.save(update_fields=["signature_request", "status"])
    SubscriptionVersion.objects.filter(pk=contract.version_id).update(status=VersionStatus.TO_SIGN)
    record("contract.sent", organisation=contract.organisation, actor=acting_user, obj=contract,
           reference=contract.reference, request=request.reference)
    return request


@transaction.atomic
def discard_draft(contract: Contract, *, acting_user=None) -> None:
    """Give up a draft never sent: its version is cancelled (a new change can then be proposed)."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != ContractStatus.DRAFT:
        raise ContractError(_("Only a draft can be discarded; cancel the signature request instead."))
    contract.status = ContractStatus.CANCELLED
    contract.save(update_fields=["status"])
    SubscriptionVersion.objects.filter(pk=contract.version_id).update(status=VersionStatus.CANCELLED)
    record("contract.discarded", organisation=contract.organisation, actor=acting_user, obj=contract,
           reference=contract.reference)


OUTCOMES = {
    RequestState.SIGNED: (ContractStatus.SIGNED, VersionStatus.SIGNED),
    RequestState.REFUSED: (ContractStatus.REFUSED, VersionStatus.REFUSED),
    RequestState.EXPIRED: (ContractStatus.EXPIRED, VersionStatus.EXPIRED),
    RequestState.CANCELLED: (ContractStatus.CANCELLED, VersionStatus.CANCELLED),
}


@receiver(request_finished, dispatch_uid="contracts.request_finished")
def on_request_finished(sender, request: SignatureRequest, **kwargs) -> None:
    """A signed contract puts its version in force (once documents are valid, for a first one);
    a refused, expired or cancelled one leaves the subscription as it was."""
    from cascade.subscriptions.actions import activate_if_ready

    contract = Contract.objects.filter(signature_request=request).select_related("version", "subscription").first()
    if contract is None:
        return
    contract_status, version_status = OUTCOMES[request.state]
    contract.status = contract_status
    contract.signed_at = request.completed_at if request.state == RequestState.SIGNED else None
    contract.save(update_fields=["status", "signed_at"])
    SubscriptionVersion.objects.filter(pk=contract.version_id).update(status=version_status)
    record(f"contract.{contract_status}", organisation=contract.organisation, obj=contract,
           reference=contract.reference)
    if request.state == RequestState.SIGNED:
        activate_if_ready(contract.subscription)


def describe_changes(contract: Contract) -> str:
    """"Redevance : 340,00 € → 374,00 €; …", for lists and e-mails."""
    return "; ".join(f"{c['objet']} : {c['ancien']} → {c['nouveau']}" for c in contract.changes) or "—"


def effective_date_text(contract: Contract) -> str:
    return format_date_fr(contract.version.effective_from)
