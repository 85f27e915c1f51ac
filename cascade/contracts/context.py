"""The variables a contract template is rendered with, read from a subscription version.

Every value is a French string (or a list of them), so that templates only lay text out and a
contract frozen as JSON renders the same years later.
"""

import re
from datetime import date
from decimal import Decimal

from django.utils import timezone

from cascade.accounts.models import Organisation
from cascade.billing.formatting import format_date_fr, format_eur, format_percent
from cascade.billing.periods import months_in
from cascade.billing.vat import EXEMPTION_MENTION, FRANCHISE_MENTION
from cascade.places.models import VatRegime
from cascade.subscriptions.models import COMPONENT_LABELS, ContractKind, SubscriptionVersion

from .changes import FREQUENCIES, TERMS, Change, Terms
from .models import AMENDMENT, ContractStatus

TITLES = {
    ContractKind.TEMPORARY: "Convention d'occupation temporaire",
    ContractKind.PRECARIOUS: "Convention d'occupation précaire",
    ContractKind.MEMBERSHIP: "Contrat d'adhésion",
}


def amendment_title(number: int, convention_reference: str) -> str:
    return f"Avenant n° {number} à la convention {convention_reference}"


def version_terms(version: SubscriptionVersion) -> Terms:
    components = sorted(version.components.all(), key=lambda c: c.kind != "rent")
    return Terms(
        entry_date=version.entry_date, exit_date=version.exit_date, frequency=version.frequency, term=version.term,
        resources=tuple(sorted(r.reference for r in version.resources.all())),
        amounts=tuple((COMPONENT_LABELS[c.kind], c.monthly_amount) for c in components),
        circumstances=version.circumstances,
    )


def city(address: str) -> str:
    """The town of a French address ("3 impasse des Lilas, 93100 Montreuil" → "Montreuil"), or ""."""
    found = re.search(r"\b\d{5}\s+([^,\n]+)\s*$", address.strip())
    return found.group(1).strip() if found else ""


def _surface(value) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}".replace(".", ",")
    return f"{text}\u00a0m²"


def party(org: Organisation) -> dict:
    individual = not org.siret and org.legal_form.lower() in ("", "particulier", "foyer", "ménage")
    return {
        "nom": org.name, "forme_juridique": org.legal_form, "siret": org.siret, "adresse": org.address,
        "representant": org.representative or org.contact_name or org.name,
        "qualite": org.representative_title, "email": org.email, "iban": org.iban,
        "est_particulier": individual,
    }


def signer_entry(party_label: str, organisation: str, name: str, quality: str) -> dict:
    return {"partie": party_label, "organisation": organisation, "nom": name, "qualite": quality}


def default_signers(version: SubscriptionVersion) -> list[dict]:
    subscription = version.subscription
    occupant, operator = party(subscription.subscriber), party(subscription.organisation)
    return [signer_entry("L'occupant", occupant["nom"], occupant["representant"], occupant["qualite"]),
            signer_entry("L'opérateur", operator["nom"], operator["representant"], operator["qualite"])]


def contract_context(version: SubscriptionVersion, *, kind: str, reference: str, day: date,
                     signers: list[dict] | None = None, amendment: dict | None = None) -> dict:
    """The variables of the document of `kind` for `version` (see variables.VARIABLES)."""
    subscription = version.subscription
    place, operator = subscription.place, subscription.organisation
    resources = sorted(version.resources.select_related("type"), key=lambda r: r.reference)
    months = months_in(version.frequency)
    components = sorted(version.components.all(), key=lambda c: c.kind != "rent")
    monthly = sum((c.monthly_amount for c in components), start=Decimal("0"))
    surfaces = [r.surface for r in resources if r.surface is not None]
    vat_rate = place.invoice_vat_rate
    if version.exit_date:
        duration = f"jusqu'au {format_date_fr(version.exit_date)} inclus"
    else:
        duration = (f"à durée indéterminée, au plus tard jusqu'au {format_date_fr(place.convention_end)}, "
                    f"fin de la convention du propriétaire")
    return {
        "document": {"type": kind, "titre": TITLES.get(kind, "Avenant") if kind != AMENDMENT else
                     amendment_title(amendment["numero"], amendment["convention_reference"]),
                     "reference": reference, "date": format_date_fr(day), "lieu_signature": city(operator.address)},
        "operateur": party(operator),
        "occupant": party(subscription.subscriber),
        "lieu": {"nom": place.name, "adresse": place.address, "proprietaire": place.owner_name,
                 "debut_convention": format_date_fr(place.convention_start),
                 "fin_convention": format_date_fr(place.convention_end)},
        "ressources": [{"reference": r.reference, "type": r.type.name, "surface": _surface(r.surface),
                        "batiment": r.building, "etage": r.floor} for r in resources],
        "surface_totale": _surface(sum(surfaces)) if surfaces else "",
        "occupation": {
            "date_entree": format_date_fr(version.entry_date),
            "date_sortie": format_date_fr(version.exit_date) if version.exit_date else "",
            "duree": duration, "frequence": FREQUENCIES[version.frequency], "terme": TERMS[version.term],
            "date_effet": format_date_fr(version.effective_from),
        },
        "montants": {
            "composantes": [{"libelle": COMPONENT_LABELS[c.kind], "mensuel_ht": format_eur(c.monthly_amount),
                             "periode_ht": format_eur(c.monthly_amount * months)} for c in components],
            "total_mensuel_ht": format_eur(monthly), "total_periode_ht": format_eur(monthly * months),
        },
        "tva": {"regime": place.vat_regime, "taux": format_percent(vat_rate) if vat_rate is not None else "",
                "mention": f"TVA au taux de {format_percent(vat_rate)} en sus" if vat_rate is not None
                else FRANCHISE_MENTION if place.vat_regime == VatRegime.FRANCHISE else EXEMPTION_MENTION},
        "depot_garantie": format_eur(subscription.deposit) if subscription.deposit else "",
        "paiement": {"delai": f"{operator.payment_terms_days} jours", "mode": "virement bancaire",
                     "iban": operator.iban},
        "precaire": {"circonstances": version.circumstances},
        "avenant": amendment or {},
        "signataires": signers if signers is not None else default_signers(version),
    }


def amendment_variables(number: int, version: SubscriptionVersion, convention, changes: list[Change]) -> dict:
    return {"numero": number, "date_effet": format_date_fr(version.effective_from),
            "convention_reference": convention.reference if convention else version.subscription.reference,
            "convention_date": format_date_fr(timezone.localtime(convention.signed_at or convention.created_at).date())
            if convention and not convention.status == ContractStatus.SIGNED_OUTSIDE else "",
            "modifications": [c.as_dict() for c in changes]}
