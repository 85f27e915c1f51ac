"""Signals for the owners of signed documents (contracts, mandates)."""

from django.dispatch import Signal

# Sent inside the transaction that finished the request (signed, refused, expired or cancelled),
# with `request`: a receiver's change of state commits or rolls back with it.
request_finished = Signal()
