"""The dunning plan's rules: which step an overdue document is due, and the texts' placeholders.
Pure: no Django.

A plan is a list of steps, each sent a number of days after the due date. On a given day a document
is due the latest step whose day has come, unless that step or a later one was already sent: each
step goes at most once, and never one earlier than a step already sent. A document found late long
after its due date (a catch-up invoice, a plan created today, a dispute just lifted) therefore gets
only the latest step that applies — one e-mail, never the whole plan at once.
"""

import re
from collections.abc import Mapping, Sequence

PLACEHOLDER = re.compile(r"\{(\w+)\}")
# What a manager may write in a step's subject and text, and what each becomes.
# A message may chase several documents of one customer: {number} lists their numbers, {documents} one line
# each, the amounts are their sums, and the dates and {days_late} are the oldest one's.
PLACEHOLDERS = ("number", "documents", "customer", "seller", "issue_date", "due_date", "total", "outstanding",
                "days_late", "penalties", "recovery_fee", "amount_claimed", "iban")


def step_due(step_days: Sequence[int], days_late: int, sent_days: Sequence[int]) -> int | None:
    """The day (after the due date) of the step to send now, or None."""
    reached = [d for d in step_days if d <= days_late]
    if not reached:
        return None
    latest = max(reached)
    if any(d >= latest for d in sent_days):
        return None
    return latest


# Anything in braces that looks meant as a placeholder: {customer.name}, {0}, {Customer}…
WRITTEN = re.compile(r"\{([^{}\s]+)\}")


def unknown_placeholders(text: str) -> list[str]:
    """The {names} in `text` that are not placeholders ({customer.name} included), in order of appearance."""
    return [name for name in dict.fromkeys(WRITTEN.findall(text)) if name not in PLACEHOLDERS]


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each {placeholder} replaced; other braces are left as written. A line naming a placeholder
    without a value (no IBAN) is left out, rather than printed with a hole."""
    lines = [line for line in text.split("\n") if all(values.get(name) != "" for name in PLACEHOLDER.findall(line))]
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), "\n".join(lines))
