"""The variables a contract template may use, each with its description (shown beside the
editor), the table directives, and a complete example context for previews and tests."""

from decimal import Decimal
from typing import Any

from cascade.billing.formatting import format_eur

VARIABLES: list[tuple[str, str]] = [
    ("document.type", "Nature du document : convention_temporaire, convention_precaire, adhesion ou avenant"),
    ("document.titre", "Titre du document (« Convention d'occupation temporaire », « Avenant n° 2 à … »)"),
    ("document.reference", "Référence du document (OCC-0012, ou OCC-0012-A2 pour un avenant)"),
    ("document.date", "Date d'établissement du document (04/12/2026)"),
    ("document.lieu_signature", "Lieu de signature (Pantin), vide s'il n'est pas renseigné"),
    ("operateur.nom", "Nom de l'opérateur"),
    ("operateur.forme_juridique", "Forme juridique de l'opérateur (SCIC SAS, association…)"),
    ("operateur.siret", "SIRET de l'opérateur"),
    ("operateur.adresse", "Adresse de l'opérateur, sur plusieurs lignes (|en_ligne pour l'écrire sur une ligne)"),
    ("operateur.representant", "Personne qui représente l'opérateur"),
    ("operateur.qualite", "Qualité du représentant de l'opérateur (présidente, gérant…)"),
    ("operateur.email", "Adresse e-mail de l'opérateur"),
    ("operateur.iban", "IBAN de l'opérateur"),
    ("occupant.nom", "Nom de l'occupant (structure ou personne)"),
    ("occupant.forme_juridique", "Forme juridique de l'occupant, vide pour un particulier"),
    ("occupant.siret", "SIRET de l'occupant, vide s'il n'en a pas"),
    ("occupant.adresse", "Adresse de l'occupant, sur plusieurs lignes (|en_ligne pour l'écrire sur une ligne)"),
    ("occupant.representant", "Personne qui représente l'occupant"),
    ("occupant.qualite", "Qualité du représentant de l'occupant"),
    ("occupant.email", "Adresse e-mail de l'occupant"),
    ("occupant.est_particulier", "Vrai si l'occupant est une personne physique ({% if occupant.est_particulier %})"),
    ("lieu.nom", "Nom du lieu"),
    ("lieu.adresse", "Adresse du lieu, sur plusieurs lignes (|en_ligne pour l'écrire sur une ligne)"),
    ("lieu.proprietaire", "Propriétaire du lieu"),
    ("lieu.debut_convention", "Début de la convention entre le propriétaire et l'opérateur"),
    ("lieu.fin_convention", "Fin de la convention entre le propriétaire et l'opérateur"),
    ("ressources", "Locaux mis à disposition : {% for r in ressources %}…{{ r.reference }}…{% endfor %}, "
                   "ou le tableau ::ressources"),
    ("ressources[].reference", "Référence d'un local (r.reference)"),
    ("ressources[].type", "Type d'un local : bureau, atelier, poste de travail… (r.type)"),
    ("ressources[].surface", "Surface d'un local (25,40 m²), vide si elle n'est pas mesurée (r.surface)"),
    ("ressources[].batiment", "Bâtiment d'un local (r.batiment)"),
    ("ressources[].etage", "Étage d'un local (r.etage)"),
    ("surface_totale", "Surface totale des locaux (125,40 m²), vide si aucune n'est mesurée"),
    ("occupation.date_entree", "Date d'entrée dans les lieux"),
    ("occupation.date_sortie", "Date de sortie, vide si elle n'est pas fixée"),
    ("occupation.duree", "Durée en toutes lettres (« jusqu'au 28/02/2027 », « à durée indéterminée, au plus "
                         "tard jusqu'au … »)"),
    ("occupation.frequence", "Périodicité de facturation : mensuelle ou trimestrielle"),
    ("occupation.terme", "Terme : à échoir ou à terme échu"),
    ("occupation.date_effet", "Date d'effet des conditions du document"),
    ("montants.composantes", "Composantes des sommes dues : le tableau ::montants, ou "
                             "{% for c in montants.composantes %}"),
    ("montants.composantes[].libelle", "Libellé d'une composante : redevance, provision pour charges… (c.libelle)"),
    ("montants.composantes[].mensuel_ht", "Montant mensuel hors taxes d'une composante (c.mensuel_ht)"),
    ("montants.composantes[].periode_ht", "Montant hors taxes par échéance d'une composante (c.periode_ht)"),
    ("montants.total_mensuel_ht", "Total mensuel hors taxes"),
    ("montants.total_periode_ht", "Total hors taxes par échéance"),
    ("tva.regime", "Régime de TVA : vat (TVA due) ou exempt (exonération)"),
    ("tva.taux", "Taux de TVA (20 %), vide en cas d'exonération"),
    ("tva.mention", "Mention de TVA à reproduire (« TVA au taux de 20 % en sus », « Exonération de TVA, "
                    "article 261 D 2° du CGI »)"),
    ("depot_garantie", "Montant du dépôt de garantie (2 500,00 €), vide s'il n'y en a pas"),
    ("paiement.delai", "Délai de paiement des factures (30 jours)"),
    ("paiement.mode", "Mode de paiement (virement bancaire)"),
    ("paiement.iban", "IBAN sur lequel payer"),
    ("precaire.circonstances", "Circonstances qui justifient la précarité (convention précaire), vide sinon"),
    ("avenant.numero", "Numéro de l'avenant (1, 2…)"),
    ("avenant.date_effet", "Date d'effet de l'avenant"),
    ("avenant.convention_reference", "Référence de la convention modifiée"),
    ("avenant.convention_date", "Date de signature de la convention modifiée, vide si inconnue"),
    ("avenant.modifications", "Ce que l'avenant change : le tableau ::modifications, ou "
                              "{% for m in avenant.modifications %}"),
    ("avenant.modifications[].objet", "Stipulation modifiée (m.objet)"),
    ("avenant.modifications[].ancien", "Valeur avant l'avenant (m.ancien)"),
    ("avenant.modifications[].nouveau", "Valeur après l'avenant (m.nouveau)"),
    ("signataires", "Signataires, dans l'ordre : le bloc ::signatures, ou {% for s in signataires %}"),
    ("signataires[].partie", "Partie représentée : L'occupant ou L'opérateur (s.partie)"),
    ("signataires[].organisation", "Structure du signataire (s.organisation)"),
    ("signataires[].nom", "Nom du signataire (s.nom)"),
    ("signataires[].qualite", "Qualité du signataire (s.qualite)"),
]

DIRECTIVES: list[tuple[str, str]] = [
    ("::ressources", "Tableau des locaux : référence, type, bâtiment et étage, surface, surface totale"),
    ("::montants", "Tableau des montants hors taxes par composante, total, mention de TVA"),
    ("::modifications", "Tableau des modifications d'un avenant : ancienne et nouvelle valeur"),
    ("::signatures", "Un cadre de signature par signataire"),
    ("::saut-de-page", "Saut de page"),
]

_M2 = "\u00a0m²"
_SAMPLE_COMPONENTS = [("Redevance d'occupation", Decimal("890.00")), ("Provision pour charges", Decimal("145.00")),
                      ("Contribution au fonctionnement du lieu", Decimal("40.00"))]

SAMPLE_CONTEXT: dict[str, Any] = {
    "document": {"type": "convention_temporaire", "titre": "Convention d'occupation temporaire",
                 "reference": "OCC-0012", "date": "04/12/2026", "lieu_signature": "Pantin"},
    "operateur": {"nom": "Tremplin Urbain", "forme_juridique": "SCIC SAS à capital variable",
                  "siret": "812 345 678 00029", "adresse": "12 rue des Arts\n93500 Pantin",
                  "representant": "Alice Martin", "qualite": "Présidente", "email": "contact@tremplin.example.org",
                  "iban": "FR76 3000 6000 0112 3456 7890 189"},
    "occupant": {"nom": "Atelier Céramique des Lilas", "forme_juridique": "Association loi 1901",
                 "siret": "901 234 567 00011", "adresse": "4 allée des Potiers\n93260 Les Lilas",
                 "representant": "Inès Barbier", "qualite": "Co-présidente", "email": "bonjour@ceramique.example.org",
                 "est_particulier": False},
    "lieu": {"nom": "Les Magasins du Canal", "adresse": "47 quai de l'Aisne\n93500 Pantin",
             "proprietaire": "Foncière du Canal SAS", "debut_convention": "01/09/2025",
             "fin_convention": "30/06/2027"},
    "ressources": [
        {"reference": "MC-B12", "type": "Atelier", "surface": "42,50" + _M2, "batiment": "Bâtiment B",
         "etage": "Rez-de-chaussée"},
        {"reference": "MC-B14", "type": "Bureau", "surface": "18,20" + _M2, "batiment": "Bâtiment B",
         "etage": "1er étage"},
        {"reference": "MC-CAS-07", "type": "Casier", "surface": "", "batiment": "Bâtiment A", "etage": ""},
    ],
    "surface_totale": "60,70" + _M2,
    "occupation": {"date_entree": "01/01/2027", "date_sortie": "",
                   "duree": "à durée indéterminée, au plus tard jusqu'au 30/06/2027, fin de la convention du "
                            "propriétaire",
                   "frequence": "trimestrielle", "terme": "à échoir", "date_effet": "01/01/2027"},
    "montants": {
        "composantes": [{"libelle": label, "mensuel_ht": format_eur(amount), "periode_ht": format_eur(amount * 3)}
                        for label, amount in _SAMPLE_COMPONENTS],
        "total_mensuel_ht": format_eur(sum(a for _l, a in _SAMPLE_COMPONENTS)),
        "total_periode_ht": format_eur(3 * sum(a for _l, a in _SAMPLE_COMPONENTS)),
    },
    "tva": {"regime": "vat", "taux": "20\u00a0%", "mention": "TVA au taux de 20\u00a0% en sus"},
    "depot_garantie": format_eur(Decimal("2500")),
    "paiement": {"delai": "30 jours", "mode": "virement bancaire", "iban": "FR76 3000 6000 0112 3456 7890 189"},
    "precaire": {"circonstances": "Le bâtiment doit être démoli pour la construction d'un groupe scolaire : "
                                  "le permis de démolir a été délivré le 12/09/2026 et les travaux commenceront "
                                  "dès que le propriétaire en aura fixé la date, au plus tard le 30/06/2027."},
    "avenant": {"numero": 2, "date_effet": "01/04/2027", "convention_reference": "OCC-0012",
                "convention_date": "15/12/2026",
                "modifications": [
                    {"objet": "Locaux mis à disposition", "ancien": "MC-B12, MC-CAS-07",
                     "nouveau": "MC-B12, MC-B14, MC-CAS-07"},
                    {"objet": "Redevance d'occupation (mensuelle HT)", "ancien": format_eur(Decimal("612")),
                     "nouveau": format_eur(Decimal("890"))},
                    {"objet": "Date de sortie", "ancien": "31/03/2027", "nouveau": "sans date (jusqu'à nouvel ordre)"},
                ]},
    "signataires": [
        {"partie": "L'occupant", "organisation": "Atelier Céramique des Lilas", "nom": "Inès Barbier",
         "qualite": "Co-présidente"},
        {"partie": "L'opérateur", "organisation": "Tremplin Urbain", "nom": "Alice Martin", "qualite": "Présidente"},
    ],
}

_SAMPLE_TITLES = {
    "convention_temporaire": "Convention d'occupation temporaire",
    "convention_precaire": "Convention d'occupation précaire",
    "adhesion": "Contrat d'adhésion",
    "avenant": "Avenant n° 2 à la convention OCC-0012",
}


def sample_context(kind: str) -> dict[str, Any]:
    """SAMPLE_CONTEXT as a document of `kind` would have it (title, reference, circumstances).

    The sample's resources and amounts are those in force after its avenant n° 2, which added an
    office and put the rent up from 1 April 2027.
    """
    sample = {**SAMPLE_CONTEXT, "document": {**SAMPLE_CONTEXT["document"], "type": kind,
                                             "titre": _SAMPLE_TITLES.get(kind, kind)}}
    if kind == "avenant":
        sample["document"]["reference"] = "OCC-0012-A2"
        sample["occupation"] = {**SAMPLE_CONTEXT["occupation"], "date_effet": SAMPLE_CONTEXT["avenant"]["date_effet"]}
    if kind != "convention_precaire":
        sample["precaire"] = {"circonstances": ""}
    return sample
