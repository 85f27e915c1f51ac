"""Late-payment penalties and the recovery fee a reminder letter claims. Pure: no Django.

Between professionals (Code de commerce, art. L441-10), penalties run from the day after the due
date at the rate printed on the invoice (the ECB main refinancing rate plus 10 points, set by the
operator on its dunning plan): outstanding × rate × days late / 365, rounded half-up to the cent.
Each invoice paid late also owes a fixed indemnity of 40 € for recovery costs (art. D441-5).

A consumer (a buyer without SIREN or SIRET) owes neither: the commercial rate and the 40 € fee are
B2B rules; a consumer owes interest at the legal rate only from the formal notice (Code civil,
art. 1231-6), which the letter itself is, so nothing is due yet when it is written.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
RECOVERY_FEE = Decimal("40.00")
DAYS_IN_YEAR = 365


def is_professional(buyer: dict) -> bool:
    """A buyer identified by a SIREN or a SIRET is a professional; any other is a consumer."""
    return bool((buyer.get("siren") or "").strip() or (buyer.get("siret") or "").strip())


def late_penalty(outstanding: Decimal, annual_rate_percent: Decimal, days_late: int) -> Decimal:
    """outstanding × rate × days / 365, rounded half-up to the cent; nothing before the due date."""
    if outstanding <= 0 or days_late <= 0 or annual_rate_percent <= 0:
        return ZERO
    exact = outstanding * annual_rate_percent * days_late / (Decimal(100) * DAYS_IN_YEAR)
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Claim:
    """What a letter claims on one document."""

    outstanding: Decimal
    days_late: int
    penalties: Decimal
    recovery_fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.outstanding + self.penalties + self.recovery_fee


def claim(outstanding: Decimal, days_late: int, annual_rate_percent: Decimal, *, professional: bool) -> Claim:
    """The penalties and fee owed on `outstanding`, `days_late` days after the due date."""
    if not professional or outstanding <= 0 or days_late <= 0:
        return Claim(outstanding, max(days_late, 0), ZERO, ZERO)
    return Claim(outstanding, days_late, late_penalty(outstanding, annual_rate_percent, days_late), RECOVERY_FEE)
