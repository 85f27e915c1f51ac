"""What an amendment changes: the terms of two versions compared, old and new side by side.

Pure: plain values in, plain values out. The labels are French because they are printed in the
amendment itself ("Redevance d'occupation (mensuelle HT) : 340,00 € → 374,00 €").
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cascade.billing.formatting import format_date_fr, format_eur

FREQUENCIES = {"monthly": "mensuelle", "quarterly": "trimestrielle"}
TERMS = {"advance": "à échoir", "arrears": "à terme échu"}
UNTIL_FURTHER_NOTICE = "sans date (jusqu'à nouvel ordre)"


@dataclass(frozen=True)
class Terms:
    """The terms of a subscription version that a contract states."""

    entry_date: date
    exit_date: date | None
    frequency: str
    term: str
    resources: tuple[str, ...]
    amounts: tuple[tuple[str, Decimal], ...]  # (label of the component, monthly amount excl. VAT)
    circumstances: str = ""


@dataclass(frozen=True)
class Change:
    item: str
    old: str
    new: str

    def as_dict(self) -> dict[str, str]:
        return {"objet": self.item, "ancien": self.old, "nouveau": self.new}


def _exit(day: date | None) -> str:
    return format_date_fr(day) if day else UNTIL_FURTHER_NOTICE


def differences(old: Terms, new: Terms) -> list[Change]:
    """Every term that differs, in the order a reader expects them; empty when nothing changes."""
    changes = []
    if old.entry_date != new.entry_date:
        changes.append(Change("Date d'entrée", format_date_fr(old.entry_date), format_date_fr(new.entry_date)))
    if old.exit_date != new.exit_date:
        changes.append(Change("Date de sortie", _exit(old.exit_date), _exit(new.exit_date)))
    if old.resources != new.resources:
        changes.append(Change("Locaux mis à disposition", ", ".join(old.resources) or "aucun",
                              ", ".join(new.resources) or "aucun"))
    old_amounts, new_amounts = dict(old.amounts), dict(new.amounts)
    for label in dict.fromkeys([*old_amounts, *new_amounts]):
        before, after = old_amounts.get(label), new_amounts.get(label)
        if before != after:
            changes.append(Change(f"{label} (mensuelle HT)", format_eur(before) if before is not None else "néant",
                                  format_eur(after) if after is not None else "néant"))
    if old.frequency != new.frequency:
        changes.append(Change("Périodicité de facturation", FREQUENCIES.get(old.frequency, old.frequency),
                              FREQUENCIES.get(new.frequency, new.frequency)))
    if old.term != new.term:
        changes.append(Change("Terme", TERMS.get(old.term, old.term), TERMS.get(new.term, new.term)))
    if old.circumstances.strip() != new.circumstances.strip():
        changes.append(Change("Circonstances justifiant la précarité", old.circumstances.strip() or "néant",
                              new.circumstances.strip() or "néant"))
    return changes
