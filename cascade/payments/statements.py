"""Bank statements imported and reconciled: each credit becomes a payment of the documents it pays
(matching.py says which), a returned direct debit reopens what it had settled, and what no rule
matched waits for the operator to confirm or dismiss it.

An import is all or nothing: a file that cannot be read whole, a statement of another account or an
IBAN with a bad checksum imports nothing. The same statement imported again changes nothing, and a
movement already imported from an overlapping statement is skipped, so no line is matched twice.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cascade.accounts.audit import record
from cascade.accounts.models import Organisation
from cascade.billing.models import Invoice

from . import matching
from .actions import PAYABLE, PaymentError, record_payment, reverse_payment, settlements
from .bankfile import BankFile, StatementFileError, Transaction, checked_dates, read_statement
from .models import BankStatement, DirectDebitBatch, LineStatus, Means, Payment, StatementLine

SOURCE = "statement"
# A batch identifier as debits.py writes it (MsgId CASCADE-<organisation>-<date>-<n>, PmtInfId MsgId-<seq>).
BATCH_ID = re.compile(r"CASCADE-\d+-\d{8}-\d{6}")


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
                "matched_automatically": len(automatic), "match_rate": match_rate(len(automatic), len(credits)),
                # Returned direct debits that name no payment of ours: for the operator to look into.
                "unmatched_returns": sum(1 for line in lines if line.amount < 0 and line.status ==
                                         LineStatus.UNMATCHED)}


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
    faults = checked_dates(statement, timezone.localdate())
    if faults:
        raise StatementImportError([fault.translated(_) for fault in faults])
    return statement


@transaction.atomic
def import_statement(data: bytes, organisation: Organisation, *, file_name: str = "",
                     acting_user=None) -> ImportResult:
    """Import and match every movement of the statement, or nothing (StatementImportError says why)."""
    bank_file = read(data, organisation)
    # One import at a time per organisation: two uploads of the same file cannot both pass the check below.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).exists()
    digest = hashlib.sha256(data).hexdigest()
    same_file = BankStatement.objects.filter(organisation=organisation, file_sha256=digest).first()
    if same_file is not None:
        return ImportResult(same_file, already_imported=True)
    statement = BankStatement.objects.filter(organisation=organisation, statement_id=bank_file.statement_id).first()
    # A statement seen before with another content (banks re-send the day's statement as it grows): its
    # movements not yet imported are added to it.
    resent = statement is not None
    new, skipped = _not_yet_imported(organisation, bank_file)
    if resent and not new:
        return ImportResult(statement, already_imported=True)
    if statement is None:
        statement = BankStatement(organisation=organisation, statement_id=bank_file.statement_id)
    for name, value in (("account_iban", bank_file.account_iban), ("format", bank_file.format),
                        ("sequence", bank_file.sequence), ("from_date", bank_file.from_date),
                        ("to_date", bank_file.to_date), ("opening_balance", bank_file.opening_balance),
                        ("closing_balance", bank_file.closing_balance), ("file_name", file_name[:255]),
                        ("file_sha256", digest)):
        setattr(statement, name, value)
    if not resent:
        statement.imported_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    statement.save()
    result, matcher, faults = ImportResult(statement, skipped=skipped), _Matcher(organisation, acting_user), []
    for tx in new:
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


def _not_yet_imported(organisation: Organisation, bank_file: BankFile) -> tuple[list[Transaction], int]:
    """The movements of the file not imported before, and how many were: the same bank identity (key), or,
    when the bank's references cannot tell (another format, or a statement without AcctSvcrRef), the same
    account, day, amount and counterparty or reference (matching.same_movement). Each movement imported
    before stands for one movement of the file: twice the same payment in one file stays twice."""
    days = {t.booked_on for t in bank_file.transactions}
    earlier = list(StatementLine.objects.filter(organisation=organisation, booked_on__in=days,
                                                statement__account_iban=bank_file.account_iban)
                   .select_related("statement").order_by("pk"))
    keys = {line.key for line in earlier}
    by_day: dict[tuple, list[StatementLine]] = {}
    for line in earlier:
        by_day.setdefault((line.booked_on, line.amount), []).append(line)
    new, skipped, seen_keys = [], 0, set()
    for tx in bank_file.transactions:
        if tx.key[:140] in keys or tx.key in seen_keys:
            # Also a key twice in the file (a CAMT AcctSvcrRef repeated): one movement.
            skipped += 1
            continue
        seen_keys.add(tx.key)
        told = matching.Seen(tx.booked_on, tx.amount, tx.counterparty_name, tx.remittance, tx.end_to_end_id)
        candidates = by_day.get((tx.booked_on, tx.amount), [])
        twin = next((line for line in candidates if not (
            # Two references the same bank gave in the same format tell two movements apart.
            line.statement.format == bank_file.format and line.bank_reference and tx.bank_reference)
            and matching.same_movement(told, matching.Seen(line.booked_on, line.amount, line.counterparty_name,
                                                           line.remittance, line.end_to_end_id))), None)
        if twin is not None:
            candidates.remove(twin)
            skipped += 1
            continue
        new.append(tx)
    return new, skipped


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
        batch = self._batch(tx) if tx.is_direct_debit_collection else None
        if batch is not None:
            # The total of a batch booked in one (BtchBookg): its debits were recorded when it was sent.
            line.status, line.rule, line.direct_debit_batch = LineStatus.MATCHED, "direct_debit", batch
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

    def _batch(self, tx: Transaction) -> DirectDebitBatch | None:
        """The batch whose total this credit is: its control sum, not yet seen on a statement, and the batch
        the text names when it quotes one of our batch identifiers (MsgId, or PmtInfId = MsgId-sequence)."""
        batches = list(DirectDebitBatch.objects.filter(organisation=self.organisation, control_sum=tx.amount,
                                                       collection_date__lte=tx.booked_on,
                                                       statement_lines__isnull=True).order_by("-collection_date"))
        text = " ".join([tx.remittance, tx.end_to_end_id, tx.bank_reference]).upper()
        quoted = [b for b in batches if b.message_id.upper() in text]
        if quoted:
            return quoted[0]
        if BATCH_ID.search(text):
            # It names a batch, not one of these.
            return None
        return batches[0] if len(batches) == 1 else None

    def _debit(self, line: StatementLine, tx: Transaction) -> None:
        # Only a direct debit coming back may undo a payment: a refund or a transfer we sent quoting an
        # invoice number is money we paid out.
        returned = self._direct_debit(tx, -tx.amount, matched=True) if tx.is_return else None
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
