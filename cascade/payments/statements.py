"""Bank statements imported and reconciled: each credit becomes a payment of the documents it pays
(matching.py says which), a returned direct debit reopens what it had settled, and what no rule
matched waits for the operator to confirm or dismiss it.

An import is all or nothing: a file that cannot be read whole, a statement of another account or an
IBAN with a bad checksum imports nothing. The same statement imported again changes nothing, and a
movement already imported from an overlapping statement is skipped, so no line is matched twice.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.models import Invoice

from . import matching
from .actions import PAYABLE, PaymentError, record_payment, reverse_payment, settlements
from .bankfile import BankFile, StatementFileError, Transaction, read_statement
from .models import BankStatement, LineStatus, Means, Payment, StatementLine

SOURCE = "statement"


class StatementImportError(Exception):
    def __init__(self, faults: list[str]):
        super().__init__("\n".join(faults))
        self.faults = faults


@dataclass
class ImportResult:
    statement: BankStatement
    already_imported: bool = False
    lines: list[StatementLine] = field(default_factory=list)
    # Movements already imported from an earlier, overlapping statement.
    skipped: int = 0

    def summary(self) -> dict:
        lines = self.lines if not self.already_imported else list(self.statement.lines.all())
        count = {status: sum(1 for line in lines if line.status == status) for status in LineStatus.values}
        credits = [line for line in lines if line.amount > 0]
        automatic = [line for line in credits if line.status == LineStatus.MATCHED and line.rule != "operator"]
        return {"statement": self.statement.statement_id, "account": self.statement.account_iban,
                "format": self.statement.format, "already_imported": self.already_imported, "lines": len(lines),
                "skipped": self.skipped, **count, "credits": len(credits),
                "credited": f"{sum((line.amount for line in credits), Decimal('0.00')):.2f}",
                "matched_automatically": len(automatic), "match_rate": match_rate(len(automatic), len(credits))}


def match_rate(matched: int, credits: int) -> str:
    """Matched automatically over credit lines, as a percentage with one decimal ("98.9")."""
    return f"{Decimal(100 * matched) / credits:.1f}" if credits else "0.0"


def read(data: bytes, organisation: Organisation) -> BankFile:
    """The statement in `data`, when it can be read whole and is one of `organisation`'s account."""
    try:
        statement = read_statement(data)
    except StatementFileError as error:
        raise StatementImportError([error.translated(_)]) from None
    if not organisation.iban:
        raise StatementImportError([_("%(organisation)s has no IBAN: enter the account's IBAN on its record before "
                                      "importing its statements.") % {"organisation": organisation.name}])
    own = organisation.iban.replace(" ", "").upper()
    if statement.account_iban != own:
        raise StatementImportError([_("This statement is of the account %(account)s, not of %(organisation)s's "
                                      "account %(own)s: nothing was imported.") % {
            "account": statement.account_iban, "organisation": organisation.name, "own": own}])
    return statement


@transaction.atomic
def import_statement(data: bytes, organisation: Organisation, *, file_name: str = "",
                     acting_user=None) -> ImportResult:
    """Import and match every movement of the statement, or nothing (StatementImportError says why)."""
    bank_file = read(data, organisation)
    # One import at a time per organisation: two uploads of the same file cannot both pass the check below.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    digest = hashlib.sha256(data).hexdigest()
    existing = BankStatement.objects.filter(organisation=organisation, statement_id=bank_file.statement_id).first() \
        or BankStatement.objects.filter(organisation=organisation, file_sha256=digest).first()
    if existing is not None:
        return ImportResult(existing, already_imported=True)
    statement = BankStatement.objects.create(
        organisation=organisation, account_iban=bank_file.account_iban, format=bank_file.format,
        statement_id=bank_file.statement_id, sequence=bank_file.sequence, from_date=bank_file.from_date,
        to_date=bank_file.to_date, opening_balance=bank_file.opening_balance,
        closing_balance=bank_file.closing_balance, file_name=file_name[:255], file_sha256=digest,
        imported_by=acting_user if getattr(acting_user, "is_authenticated", False) else None)
    known = set(StatementLine.objects.filter(organisation=organisation, key__in=[
        t.key for t in bank_file.transactions]).values_list("key", flat=True))
    result, matcher, faults = ImportResult(statement), _Matcher(organisation, acting_user), []
    for tx in bank_file.transactions:
        if tx.key in known:
            result.skipped += 1
            continue
        known.add(tx.key)
        try:
            result.lines.append(matcher.line(statement, tx))
        except PaymentError as error:
            faults.append(f"{tx.position}: {error}")
    if faults:
        transaction.set_rollback(True)
        raise StatementImportError(faults)
    summary = result.summary()
    record("bank_statement.imported", organisation=organisation, actor=acting_user, obj=statement,
           **{k: summary[k] for k in ("statement", "format", "lines", "skipped", "credits", "matched_automatically",
                                      *LineStatus.values)})
    return result


class _Matcher:
    """The organisation's payers and documents, read once per import, and the rules applied to a movement."""

    def __init__(self, organisation: Organisation, acting_user):
        self.organisation, self.acting_user = organisation, acting_user
        payers = list(Organisation.objects.filter(operator=organisation))
        self.by_iban, self.by_name = {}, {}
        for payer in payers:
            if payer.iban:
                self.by_iban.setdefault(payer.iban.replace(" ", "").upper(), []).append(payer)
            self.by_name.setdefault(matching.name_key(payer.name), []).append(payer)
        self.by_number = {i.number: i for i in Invoice.objects.filter(organisation=organisation, kind__in=PAYABLE)}

    def line(self, statement: BankStatement, tx: Transaction) -> StatementLine:
        line = StatementLine(
            statement=statement, organisation=self.organisation, key=tx.key[:140], position=tx.position[:80],
            booked_on=tx.booked_on, amount=tx.amount, counterparty_name=tx.counterparty_name[:140],
            counterparty_iban=tx.counterparty_iban, remittance=tx.remittance, end_to_end_id=tx.end_to_end_id[:35],
            bank_reference=tx.bank_reference[:140], bank_code=tx.bank_code[:40], return_reason=tx.return_reason[:140],
            status=LineStatus.UNMATCHED)
        if tx.amount > 0:
            self._credit(line, tx)
        else:
            self._debit(line, tx)
        line.save()
        return line

    def _credit(self, line: StatementLine, tx: Transaction) -> None:
        # Only the EndToEndId the batch gave names a collection: a transfer quoting the number of an invoice
        # already collected is a second payment, for the operator to see.
        collected = self._direct_debit(tx, tx.amount, matched=False) if tx.end_to_end_id else None
        if collected is not None:
            # The collection of a direct debit recorded when the batch was sent: nothing new to record.
            line.status, line.rule, line.payment = LineStatus.MATCHED, "direct_debit", collected
            return
        quoted = [self.by_number[n] for n in matching.invoice_numbers(tx.remittance) if n in self.by_number]
        if quoted:
            if len({i.customer_id for i in quoted}) == 1:
                found = settlements(quoted, tx.booked_on)
                if all(found[i.pk].outstanding > 0 for i in quoted):
                    self._pay(line, quoted[0].customer, quoted, "number")
                    return
            line.status = LineStatus.PROPOSED
            return
        payers, rule = self.payers_of(line)
        if len(payers) == 1:
            documents = open_documents_of(self.organisation, [payers[0].pk], tx.booked_on)
            only = matching.only_document_of_amount(tx.amount, documents, tx.booked_on)
            if only is not None:
                self._pay(line, payers[0], [Invoice.objects.get(pk=only.key)], rule)
                return
        line.status = LineStatus.PROPOSED if self.has_candidates(line, payers) else LineStatus.UNMATCHED

    def _pay(self, line: StatementLine, payer: Organisation, invoices: list[Invoice], rule: str) -> None:
        try:
            line.payment = record_payment(
                self.organisation, payer, amount=line.amount, received_on=line.booked_on, means=Means.TRANSFER,
                reference=_reference(line), invoices=invoices, source=SOURCE, acting_user=self.acting_user)
        except PaymentError:  # more than the payer owes: the operator decides (confirm_line keeps a credit)
            line.status = LineStatus.PROPOSED
            return
        line.status, line.rule = LineStatus.MATCHED, rule

    def _debit(self, line: StatementLine, tx: Transaction) -> None:
        returned = self._direct_debit(tx, -tx.amount, matched=True)
        if returned is not None:
            line.payment = reverse_payment(returned, on=tx.booked_on, acting_user=self.acting_user,
                                           reason=tx.return_reason or _("returned by the payer's bank"))
            line.status, line.rule = LineStatus.RETURNED, "return"
        elif not tx.is_return:
            # Money leaving the account (fees, suppliers) pays no document of ours.
            line.status = LineStatus.IGNORED

    def _direct_debit(self, tx: Transaction, amount: Decimal, *, matched: bool) -> Payment | None:
        """The direct debit recorded at export (reference = its EndToEndId) that this movement collects
        (matched=False: not yet seen on a statement) or returns (matched=True: not yet returned; OFX has no
        EndToEndId, its text carries the reference)."""
        references = [tx.end_to_end_id] if not matched else list(dict.fromkeys(filter(None, [
            tx.end_to_end_id, *matching.invoice_numbers(tx.remittance)])))
        payments = Payment.objects.filter(organisation=self.organisation, means=Means.DIRECT_DEBIT, amount=amount,
                                          reference__in=references, returned_on__isnull=True)
        if not matched:
            payments = payments.exclude(statement_lines__amount__gt=0)
        return payments.order_by("-received_on", "-pk").first()

    def has_candidates(self, line: StatementLine, payers: list[Organisation]) -> bool:
        """Whether the operator has something to choose from: the payer is known, or a document asks this
        very amount."""
        return bool(payers) or any(d.outstanding == line.amount for d in open_documents_of(
            self.organisation, None, line.booked_on))

    def payers_of(self, line: StatementLine) -> tuple[list[Organisation], str]:
        """The payers the line names: by the IBAN it came from, else by name."""
        by_iban = self.by_iban.get(line.counterparty_iban, []) if line.counterparty_iban else []
        if by_iban:
            return by_iban, "iban"
        return self.by_name.get(matching.name_key(line.counterparty_name), []) if line.counterparty_name else [], "name"


def _reference(line: StatementLine) -> str:
    return " ".join(filter(None, [line.end_to_end_id, line.remittance])) or line.bank_reference


def open_documents_of(organisation: Organisation, payer_ids: list[int] | None, on: date) -> list[
        matching.OpenDocument]:
    """The open documents of these payers (all when None), as matching.py reads them."""
    documents = Invoice.objects.filter(organisation=organisation, kind__in=PAYABLE, total_incl_vat__gt=0)
    if payer_ids is not None:
        documents = documents.filter(customer_id__in=payer_ids)
    documents = list(documents)
    found = settlements(documents, on)
    return [matching.OpenDocument(d.pk, d.number, d.customer_id, d.issue_date, found[d.pk].outstanding)
            for d in documents if found[d.pk].outstanding > 0]


def proposals(lines: list[StatementLine], on: date) -> dict[int, list[Invoice]]:
    """For each line no rule matched, the documents it most likely pays, best first (open on `on`)."""
    if not lines:
        return {}
    organisation = lines[0].organisation
    payers = list(Organisation.objects.filter(operator=organisation))
    customer_of = dict(Invoice.objects.filter(organisation=organisation).values_list("number", "customer_id"))
    documents = open_documents_of(organisation, None, on)
    best = {}
    for line in lines:
        key = matching.name_key(line.counterparty_name)
        known = {p.pk for p in payers if (line.counterparty_iban and p.iban.replace(" ", "").upper() ==
                                          line.counterparty_iban) or (key and matching.name_key(p.name) == key)}
        known |= {customer_of[n] for n in matching.invoice_numbers(line.remittance) if n in customer_of}
        best[line.pk] = matching.candidates(line.amount, documents, known, line.booked_on)
    invoices = Invoice.objects.select_related("customer").in_bulk([d.key for found in best.values() for d in found])
    return {pk: [invoices[d.key] for d in found] for pk, found in best.items()}


def _decidable(line: StatementLine) -> StatementLine:
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    if line.amount <= 0 or line.status not in (LineStatus.PROPOSED, LineStatus.UNMATCHED):
        raise PaymentError(_("This line was already decided (%(status)s).") % {"status": line.get_status_display()})
    return line


@transaction.atomic
def confirm_line(line: StatementLine, *, invoices: list[Invoice] = (), payer: Organisation | None = None,
                 acting_user=None) -> Payment:
    """The operator says what the line pays: documents (their payer's), or a payer (its oldest documents,
    the rest as a credit on its account)."""
    line = _decidable(line)
    customers = {i.customer_id for i in invoices}
    if invoices and (len(customers) != 1 or (payer is not None and payer.pk not in customers)):
        raise PaymentError(_("The documents chosen were not all issued to the same payer."))
    payer = invoices[0].customer if invoices else payer
    if payer is None or payer.operator_id != line.organisation_id:
        raise PaymentError(_("Choose a document or a payer for this line."))
    line.payment = record_payment(line.organisation, payer, amount=line.amount, received_on=line.booked_on,
                                  means=Means.TRANSFER, reference=_reference(line), invoices=list(invoices),
                                  source=SOURCE, allow_credit=True, acting_user=acting_user)
    line.status, line.rule = LineStatus.MATCHED, "operator"
    line.decided_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    line.save(update_fields=["payment", "status", "rule", "decided_by"])
    record("statement_line.confirmed", organisation=line.organisation, actor=acting_user, obj=line,
           amount=str(line.amount), payer=payer.name, invoices=[i.number for i in invoices],
           payment=line.payment_id)
    return line.payment


@transaction.atomic
def dismiss_line(line: StatementLine, *, acting_user=None) -> StatementLine:
    """The operator says the line pays nothing of ours (a refund, a transfer between accounts…)."""
    line = _decidable(line)
    line.status, line.rule = LineStatus.IGNORED, "operator"
    line.decided_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    line.save(update_fields=["status", "rule", "decided_by"])
    record("statement_line.dismissed", organisation=line.organisation, actor=acting_user, obj=line,
           amount=str(line.amount), counterparty=line.counterparty_name)
    return line
