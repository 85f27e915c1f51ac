"""Display filters shared by every page: euros and rates in French style."""

from decimal import Decimal

from django import template

from cascade.billing.formatting import format_eur

register = template.Library()


@register.filter
def eur(value) -> str:
    if value is None or value == "":
        return "—"
    return format_eur(Decimal(value))


@register.filter
def percent(value) -> str:
    """A fraction (Decimal('0.0734')) as '7,34 %'."""
    if value is None:
        return "—"
    return f"{Decimal(value) * 100:.2f}".replace(".", ",") + "\u00a0%"


@register.filter
def last_day(value):
    """The inclusive last day of a half-open period end."""
    from datetime import timedelta

    return value - timedelta(days=1) if value else value
