"""How a payment settles open documents (DESIGN.md §2: `Payment`, `Allocation`). Pure: no Django.

A payment goes first to the documents it names (in the order named), then to the others oldest
first (by issue date, then number); each receives what it still owes, at most; what is left is a
credit on the payer's account. Amounts are whole cents and never split below the cent, so the
parts and the credit add up exactly to the payment.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenItem:
    """A document with something still to pay: `outstanding` > 0."""

    key: Hashable
    issue_date: date
    number: str
    outstanding: Decimal


def allocate(amount: Decimal, items: Sequence[OpenItem], chosen: Sequence[Hashable] = ()) -> tuple[
        list[tuple[Hashable, Decimal]], Decimal]:
    """The parts of `amount` given to `items` (key, amount), and the credit left over."""
    if amount <= 0:
        raise ValueError(f"a payment is a positive amount, got {amount}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"a payment is a whole number of cents, got {amount}")
    by_key = {item.key: item for item in items}
    unknown = [key for key in chosen if key not in by_key]
    if unknown:
        raise ValueError(f"nothing is owed on {unknown}")
    rest = [item for item in sorted(items, key=lambda i: (i.issue_date, i.number)) if item.key not in chosen]
    parts, left = [], amount
    for item in [by_key[key] for key in dict.fromkeys(chosen)] + rest:
        if left == 0:
            break
        if item.outstanding <= 0:
            continue
        part = min(left, item.outstanding)
        parts.append((item.key, part))
        left -= part
    return parts, left
