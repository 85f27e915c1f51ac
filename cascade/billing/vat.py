"""VAT breakdown of an invoice, per rate, as EN 16931 computes it.

Rates are percentages (`Decimal("20")` is 20 %); `None` is an exempt line (category E).
The VAT of a rate is computed once on the sum of the line nets at that rate and rounded
half-up (BR-CO-17), not summed from per-line VAT: three lines of 10.03 at 20 % carry
6.02 of VAT (on 30.09), not 3 × 2.01. Totals are sums of these rounded parts (BR-CO-13..15).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .prorata import round_cents

# Rent of bare premises, the usual case of a temporary occupation agreement.
EXEMPTION_MENTION = "Exonération de TVA, article 261 D 2° du CGI"
# A seller under the franchise en base (small turnover) charges no VAT at all.
FRANCHISE_MENTION = "TVA non applicable, art. 293 B du CGI"
# The regime an issued document was under, read from its frozen mention (for its e-invoice).
REGIME_OF_MENTION = {"": "normal", EXEMPTION_MENTION: "exempt_261D", FRANCHISE_MENTION: "franchise_293B"}

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal | None
    base: Decimal
    vat: Decimal


def _order(rate: Decimal | None) -> tuple[bool, Decimal]:
    return (rate is None, -(rate or ZERO))


def vat_breakdown(lines: Iterable[tuple[Decimal, Decimal | None]]) -> list[VatGroup]:
    """One group per rate of the `(net, rate)` lines: highest rate first, exempt last."""
    bases: dict[Decimal | None, Decimal] = {}
    for net, rate in lines:
        if net != round_cents(net):
            raise ValueError(f"a line net is rounded to the cent before VAT, got {net}")
        if rate is not None and rate < 0:
            raise ValueError(f"a VAT rate cannot be negative, got {rate}")
        bases[rate] = bases.get(rate, ZERO) + net
    return [
        VatGroup(
            rate=rate,
            base=round_cents(base),
            vat=ZERO if rate is None else round_cents(base * rate / 100),
        )
        for rate, base in sorted(bases.items(), key=lambda item: _order(item[0]))
    ]


def totals(groups: Iterable[VatGroup]) -> tuple[Decimal, Decimal, Decimal]:
    """Total excluding VAT, total VAT, total including VAT."""
    groups = list(groups)
    excl = sum((g.base for g in groups), ZERO)
    vat = sum((g.vat for g in groups), ZERO)
    return excl, vat, excl + vat
