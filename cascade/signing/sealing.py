"""The signed PDF: the document as the signers read it, its evidence page, the evidence log and the
original attached, sealed by the organisation's certificate (PAdES).

One certification seal covers the whole file; it allows later signatures (a counter-seal, a
document timestamp), each an incremental update that leaves it valid. One seal rather than one
per signer: the signers did not hold the key, the organisation attests their signatures, and
validators then report one seal covering the whole document (poppler's pdfsig also misreports
the trust of repeated seals by the same certificate). Who signed and when is on the evidence
page and in the attached log, both covered by the seal.
"""

import io
import json
from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from . import keys, pades
from .evidence_pdf import render_evidence_pdf
from .models import SignatureRequest, SignerState

NOTICE = (
    "Ce dossier de preuve est joint au document signé électroniquement. Chaque signataire a reçu un lien "
    "personnel par e-mail et a confirmé son identité par un code à usage unique envoyé à son adresse, puis a "
    "consenti à signer et tapé son nom. L'empreinte SHA-256 ci-dessus est celle du document qui leur a été "
    "présenté, joint à ce PDF (« document-original.pdf »). Chaque événement du journal contient l'empreinte du "
    "précédent : modifier ou retirer un événement rompt la chaîne. Le PDF est scellé (signature PAdES) par le "
    "certificat de l'organisation émis par l'autorité de certification de Cascade, dont l'empreinte figure "
    "ci-dessus ; toute modification du fichier invalide le sceau. Vérification : page « Vérifier un document » "
    "de Cascade, commande « cascade verify_pdf », ou tout validateur de signatures PDF."
)


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y à %H:%M:%S") + " (heure de Paris)"


def _actor(event) -> str:
    """Whom the event concerns, and the manager who acted when one did (a link sent again)."""
    who = event.signer.name if event.signer_id else "Cascade"
    return f"{who} (par {event.data['by']})" if event.data.get("by") else who


def _method(signer) -> str:
    return (f"Lien personnel envoyé à {signer.email} ; code à usage unique envoyé à cette adresse et "
            f"saisi le {_when(signer.verified_at)} ; consentement exprès et nom tapé")


def evidence(request: SignatureRequest, ca_fingerprint: str) -> dict:
    events = list(request.events.select_related("signer").order_by("seq"))
    with translation.override("fr"):  # the evidence page is a French document, whoever signs
        labels = {e.pk: e.label for e in events}
    return {
        "title": request.title,
        "reference": request.reference,
        "organisation": request.organisation.name,
        "document_sha256": request.document_sha256,
        "document_pages": request.document_pages,
        "created_at": _when(request.created_at),
        "completed_at": _when(events[-1].at) if events else "",
        "signers": [
            {"order": s.order, "name": s.name, "email": s.email, "quality": s.quality,
             "organisation": s.organisation.name if s.organisation_id else "", "signed_at": _when(s.signed_at),
             "typed_name": s.typed_name, "method": _method(s), "ip": s.ip or "", "user_agent": s.user_agent,
             "drawing_png": bytes(s.drawing) if s.drawing else None}
            for s in request.signers.select_related("organisation").filter(state=SignerState.SIGNED)
        ],
        "events": [
            {"seq": e.seq, "at": _when(e.at), "kind": labels[e.pk],
             "actor": _actor(e), "ip": e.ip or "", "user_agent": e.user_agent,
             "document_sha256": e.document_sha256, "hash": e.hash}
            for e in events
        ],
        "chain_head": events[-1].hash if events else "",
        "ca_fingerprint": ca_fingerprint,
        "notice": NOTICE,
    }


ORIGINAL, LOG = "document-original.pdf", "journal-de-preuve.json"


def evidence_log_json(request: SignatureRequest) -> bytes:
    """The whole log, as hashed, for anyone to recompute the chain."""
    events = request.events.select_related("signer", "request").order_by("seq")
    payload = {"request": request.reference, "title": request.title, "document_sha256": request.document_sha256,
               "hash": "sha256 of the canonical JSON (sorted keys, no spaces) of each event without its hash",
               "signers": [{"order": s.order, "name": s.name, "email": s.email, "quality": s.quality}
                           for s in request.signers.order_by("order")],
               "events": [{**e.content(), "hash": e.hash, "signer_order": e.signer.order if e.signer_id else None}
                          for e in events]}
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True).encode()


def _joined(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sealed_pdf(request: SignatureRequest) -> bytes:
    identity = keys.sealing_identity(request.organisation)
    credentials, passphrase = keys.credentials(identity), keys.passphrase()
    chain = [identity.authority.certificate_pem.encode()]
    with request.document.open("rb") as f:
        original = f.read()
    pdf = _joined(original, render_evidence_pdf(evidence(request, identity.authority.fingerprint)))
    organisation = request.organisation.name
    signed = list(request.signers.select_related("organisation").filter(state=SignerState.SIGNED).order_by("order"))
    names = ", ".join(f"{s.name} le {_when(s.signed_at)}" for s in signed)
    return pades.seal(
        pdf, credentials=credentials, passphrase=passphrase, chain=chain, field_name="Cachet-Cascade",
        signer_name=organisation, certify=True, timestamp_url=settings.SIGNING_TSA_URL or None,
        reason=f"{request.reference} signé électroniquement par {names} ; cachet de {organisation}",
        attachments=[
            pades.Attachment(ORIGINAL, original, "application/pdf", "Document présenté aux signataires"),
            pades.Attachment(LOG, evidence_log_json(request), "application/json",
                             "Journal de preuve chaîné de la demande de signature"),
        ])


def signers_of(pdf: bytes) -> list[dict]:
    """Who signed and when, from the log attached to a PDF Cascade sealed (trust it only once the
    seal is verified intact and Cascade's): [{"name", "email", "at"}]."""
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        log = json.loads(attachments[LOG][0])
    except (KeyError, IndexError, ValueError, TypeError, PdfReadError):
        return []
    signers = {s.get("order"): s for s in log.get("signers", [])}
    found = []
    for event in log.get("events", []):
        if event.get("kind") != "signed":
            continue
        try:
            at = timezone.localtime(datetime.fromisoformat(event["at"]))
        except (KeyError, TypeError, ValueError):
            at = None
        found.append({"name": signers.get(event.get("signer_order"), {}).get("name") or event.get("signer"),
                      "email": event.get("signer"), "at": at})
    return found
