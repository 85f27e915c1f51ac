"""The French chart of accounts (plan comptable général) as Cascade posts on it, and which account
each kind of revenue and expense goes to. Pure: no Django.

An organisation may relabel an account or add its own (the `Account` model); the numbers Cascade
posts on are these. docs/operators.md ("Ledger") explains each choice.
"""

import re
import unicodedata

CUSTOMERS = "411"
SUPPLIERS = "401"
SERVICES = "706"
ANCILLARY = "708"
BUILDING_INCOME = "752"
OTHER_INCOME = "758"
VAT_COLLECTED = "44571"
VAT_DEDUCTIBLE = "44566"
BANK = "512"
DEPOSITS_RECEIVED = "165"
ENERGY_WATER = "6061"
SERVICES_BOUGHT = "604"
SUBCONTRACTING = "611"
REPAIRS = "6152"
INSURANCE = "616"
FEES = "6226"
SUNDRY = "628"

DEFAULT_CHART = {
    DEPOSITS_RECEIVED: "Dépôts et cautionnements reçus",
    SUPPLIERS: "Fournisseurs",
    CUSTOMERS: "Clients",
    VAT_DEDUCTIBLE: "TVA sur autres biens et services",
    VAT_COLLECTED: "TVA collectée",
    BANK: "Banques",
    SERVICES_BOUGHT: "Achats d'études et prestations de services",
    ENERGY_WATER: "Fournitures non stockables (eau, énergie)",
    SUBCONTRACTING: "Sous-traitance générale",
    REPAIRS: "Entretien et réparations sur biens immobiliers",
    INSURANCE: "Primes d'assurances",
    FEES: "Honoraires",
    SUNDRY: "Divers (autres services extérieurs)",
    SERVICES: "Prestations de services",
    ANCILLARY: "Produits des activités annexes",
    BUILDING_INCOME: "Revenus des immeubles non affectés aux activités professionnelles",
    OTHER_INCOME: "Produits divers de gestion courante",
}

# Journals: code → label (the FEC's JournalCode and JournalLib).
SALES, BANK_JOURNAL, PURCHASES, MISC = "VT", "BQ", "AC", "OD"
JOURNALS = {SALES: "Ventes", BANK_JOURNAL: "Banque", PURCHASES: "Achats", MISC: "Opérations diverses"}


def revenue_account(component: str, *, vat_charged: bool, payment_notice: bool) -> str:
    """Where an invoice line's net amount is credited.

    The occupancy fee is the operator's activity (706), except a rent of bare premises without VAT
    (art. 261 D 2° CGI, or called by a payment notice): the income of a building (752). The fluids
    provision is charges passed on to the occupant: an ancillary income (708).
    """
    if component == "fluids":
        return ANCILLARY
    if payment_notice or not vat_charged:
        return BUILDING_INCOME
    return SERVICES


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", text).strip().casefold()


# A supplier bill's category, by the first pattern it matches (in this order), to an expense account.
EXPENSES = (
    (r"travaux|reparation|maintenance|entretien", REPAIRS),
    (r"electricit|\beau\b|gaz|chauffage|energie|fluide", ENERGY_WATER),
    (r"assurance", INSURANCE),
    (r"gardiennage|securite|surveillance|nettoyage|menage", SUBCONTRACTING),
    (r"coordination|honoraire|comptab|juridique|avocat", FEES),
    (r"animation|programme|prestation|etude", SERVICES_BOUGHT),
)


def expense_account(category: str) -> str:
    """The expense account of a supplier bill's category (628 when no rule knows it)."""
    key = _key(category)
    return next((account for pattern, account in EXPENSES if re.search(pattern, key)), SUNDRY)
