"""The demo's payments: SEPA mandates, a direct debit its bank returns, and the writers of its bank
statement (scripts/make_demo_statement.py).

Two occupants with an IBAN pay by direct debit, one mandate signed through Cascade's signing flow
(today), the other signed on paper two months ago; their open documents are announced
(pre-notification e-mails kept in memory), so that `cascade export_sepa --collection-date <the date
announced>` has a batch to write. The statement writers produce files as banks do (camt.053.001.02
as French banks send it, OFX 1.x SGML), from plain movements; tests use them too, to build a
statement about the documents they create.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Max
from django.test import override_settings
from lxml import etree

from cascade.accounts.models import Organisation, OrganisationKind
from cascade.billing.models import DocumentKind, Invoice
from cascade.contracts.demo import sign_as_demo
from cascade.signing.actions import SignerSpec
from cascade.signing.models import Party

from . import mandates
from .debits import send_prenotifications
from .models import Means, Payment, PreNotification


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def sign_demo_mandates(operator: Organisation, manager, today: date) -> date | None:
    """Make the two mandates and announce the debits; returns the latest debit date announced."""
    if not operator.sepa_creditor_id or not operator.iban:
        return None
    occupants = list(Organisation.objects.filter(operator=operator, kind=OrganisationKind.OCCUPANT,
                                                 received_invoices__isnull=False).exclude(iban="")
                     .distinct().order_by("name")[:2])
    if len(occupants) < 2:
        return None
    first, second = occupants
    mandate = mandates.create_mandate(operator, first, iban=first.iban, acting_user=manager)
    signer_name = first.contact_name or first.name
    request = mandates.send_for_signature(mandate, SignerSpec(signer_name, first.email, Party.OCCUPANT,
                                                              "Titulaire du compte", first), acting_user=manager)
    sign_as_demo(request.signers.get())
    mandates.create_mandate(operator, second, iban=second.iban, signed_on=today - timedelta(days=60),
                            acting_user=manager)
    send_prenotifications(today)
    return PreNotification.objects.filter(mandate__creditor=operator).aggregate(d=Max("debit_on"))["d"]

CAMT_02 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
# The day the demo occupant's October direct debit was collected.
DEMO_DEBIT_DAY = date(2026, 10, 30)


def record_demo_direct_debit(operator: Organisation) -> Payment | None:
    """One occupant paid its October invoice by direct debit (as a SEPA batch records it: reference =
    EndToEndId = the invoice number); its bank returns it in November's statement."""
    from .actions import record_payment

    invoice = (Invoice.objects.filter(organisation=operator, kind=DocumentKind.INVOICE, issue_date__year=2026,
                                      issue_date__month=10, customer__iban__gt="", allocations__isnull=True)
               .select_related("customer").order_by("number").first())
    if invoice is None:
        return None
    return record_payment(operator, invoice.customer, amount=invoice.total_incl_vat, received_on=DEMO_DEBIT_DAY,
                          means=Means.DIRECT_DEBIT, reference=invoice.number, invoices=[invoice], source="sepa")


# The demo's history is paid up to here, by transfer, except by the late payers; November's statement
# (cascade/demo/releve-2026-11.*) brings what was paid in November.
DEMO_HISTORY_END = date(2026, 11, 1)
LATE_PAYERS = 2


def record_demo_history(operator: Organisation) -> tuple[int, list[str]]:
    """Before Cascade, the occupants paid their documents a week after issue, as the payments imported
    from the operator's bank would show, except two occupants, whose September and October documents
    are still open (the reminders chase them). Returns the payments recorded and the late payers."""
    from .actions import PAYABLE, settlements
    from .models import Allocation

    documents = list(Invoice.objects.filter(organisation=operator, kind__in=PAYABLE, total_incl_vat__gt=0,
                                            issue_date__lt=DEMO_HISTORY_END).select_related("customer")
                     .order_by("issue_date", "number"))
    # The last occupants by name who have neither a mandate nor a direct debit are late.
    by_debit = set(Payment.objects.filter(organisation=operator, means=Means.DIRECT_DEBIT).values_list(
        "payer_id", flat=True)) | set(operator.mandates_received.values_list("debtor_id", flat=True))
    late = sorted({d.customer.name for d in documents if d.customer_id not in by_debit})[-LATE_PAYERS:]
    open_ = settlements(documents, DEMO_HISTORY_END)
    paid = [d for d in documents if open_[d.pk].outstanding > 0 and not (
        d.customer.name in late and d.issue_date >= date(2026, 9, 1))]
    payments = Payment.objects.bulk_create(
        Payment(organisation=operator, payer=d.customer, received_on=d.issue_date + timedelta(days=7),
                amount=open_[d.pk].outstanding, means=Means.TRANSFER, reference=d.number, source="import")
        for d in paid)
    Allocation.objects.bulk_create(Allocation(payment=p, invoice=d, amount=p.amount)
                                   for p, d in zip(payments, paid, strict=True))
    return len(payments), late


@dataclass(frozen=True)
class Movement:
    booked_on: date
    # Signed: positive received, negative paid out.
    amount: Decimal
    name: str = ""
    iban: str = ""
    remittance: str = ""
    end_to_end_id: str = ""
    # ISO 20022 Domain/Family/SubFamily.
    code: str = "PMNT/RCDT/ESCT"
    return_reason: str = ""
    reference: str = ""


def camt053(account_iban: str, statement_id: str, sequence: int, from_date: date, to_date: date,
            opening: Decimal, movements: list[Movement], namespace: str = CAMT_02) -> bytes:
    """A camt.053 statement (BkToCstmrStmt) of these movements, booked, one transaction per entry."""
    ns = f"{{{namespace}}}"

    def el(parent, tag: str, text: str | None = None, **attrs):
        node = etree.SubElement(parent, ns + tag, attrs)
        if text is not None:
            node.text = text
        return node

    def amount(parent, value: Decimal):
        el(parent, "Amt", f"{abs(value):.2f}", Ccy="EUR")
        el(parent, "CdtDbtInd", "CRDT" if value >= 0 else "DBIT")

    def balance(parent, code: str, value: Decimal, day: date):
        bal = el(parent, "Bal")
        el(el(el(bal, "Tp"), "CdOrPrtry"), "Cd", code)
        amount(bal, value)
        el(el(bal, "Dt"), "Dt", day.isoformat())

    root = etree.Element(ns + "Document", nsmap={None: namespace})
    message = el(root, "BkToCstmrStmt")
    header = el(message, "GrpHdr")
    el(header, "MsgId", f"{statement_id}-MSG")
    el(header, "CreDtTm", f"{to_date.isoformat()}T23:59:59")
    stmt = el(message, "Stmt")
    el(stmt, "Id", statement_id)
    el(stmt, "ElctrncSeqNb", str(sequence))
    el(stmt, "CreDtTm", f"{to_date.isoformat()}T23:59:59")
    period = el(stmt, "FrToDt")
    el(period, "FrDtTm", f"{from_date.isoformat()}T00:00:00")
    el(period, "ToDtTm", f"{to_date.isoformat()}T23:59:59")
    account = el(stmt, "Acct")
    el(el(account, "Id"), "IBAN", account_iban)
    el(account, "Ccy", "EUR")
    balance(stmt, "OPBD", opening, from_date)
    balance(stmt, "CLBD", opening + sum((m.amount for m in movements), Decimal("0.00")), to_date)
    for n, m in enumerate(movements, start=1):
        entry = el(stmt, "Ntry")
        el(entry, "NtryRef", f"{n:06d}")
        amount(entry, m.amount)
        el(entry, "Sts", "BOOK")
        el(el(entry, "BookgDt"), "Dt", m.booked_on.isoformat())
        el(el(entry, "ValDt"), "Dt", m.booked_on.isoformat())
        el(entry, "AcctSvcrRef", m.reference or f"{statement_id}-{n:06d}")
        domain, family, sub = m.code.split("/")
        code = el(el(entry, "BkTxCd"), "Domn")
        el(code, "Cd", domain)
        fmly = el(code, "Fmly")
        el(fmly, "Cd", family)
        el(fmly, "SubFmlyCd", sub)
        tx = el(el(entry, "NtryDtls"), "TxDtls")
        refs = el(tx, "Refs")
        el(refs, "AcctSvcrRef", f"{m.reference or statement_id + '-' + format(n, '06d')}-1")
        el(refs, "EndToEndId", m.end_to_end_id or "NOTPROVIDED")
        if m.name or m.iban:
            # The other party: the debtor who paid us, or whose direct debit came back; else the creditor.
            side = "Dbtr" if m.amount > 0 or m.return_reason else "Cdtr"
            parties = el(tx, "RltdPties")
            if m.name:
                el(el(parties, side), "Nm", m.name)
            if m.iban:
                el(el(el(parties, f"{side}Acct"), "Id"), "IBAN", m.iban)
        if m.remittance:
            el(el(tx, "RmtInf"), "Ustrd", m.remittance)
        if m.return_reason:
            el(el(el(tx, "RtrInf"), "Rsn"), "Cd", m.return_reason)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def ofx(bank_id: str, branch_id: str, account_id: str, key: str, from_date: date, to_date: date,
        movements: list[Movement], closing: Decimal) -> bytes:
    """An OFX 1.x (SGML) statement of these movements; OFX has no payer IBAN and no return code."""
    lines = ["OFXHEADER:100", "DATA:OFXSGML", "VERSION:102", "SECURITY:NONE", "ENCODING:USASCII",
             "CHARSET:1252", "COMPRESSION:NONE", "OLDFILEUID:NONE", "NEWFILEUID:NONE", "",
             "<OFX>", "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>",
             f"<DTSERVER>{to_date:%Y%m%d}235959<LANGUAGE>FRA</SONRS></SIGNONMSGSRSV1>",
             "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>",
             "<STMTRS><CURDEF>EUR",
             f"<BANKACCTFROM><BANKID>{bank_id}<BRANCHID>{branch_id}<ACCTID>{account_id}<ACCTTYPE>CHECKING"
             f"<ACCTKEY>{key}</BANKACCTFROM>",
             f"<BANKTRANLIST><DTSTART>{from_date:%Y%m%d}<DTEND>{to_date:%Y%m%d}"]
    for n, m in enumerate(movements, start=1):
        kind = "DIRECTDEBIT" if m.code.split("/")[1] == "IDDT" else "CREDIT" if m.amount > 0 else "DEBIT"
        memo = " ".join(filter(None, [m.remittance, m.end_to_end_id]))
        lines += ["<STMTTRN>", f"<TRNTYPE>{kind}", f"<DTPOSTED>{m.booked_on:%Y%m%d}", f"<TRNAMT>{m.amount:.2f}",
                  f"<FITID>{m.reference or f'{to_date:%Y%m}{n:06d}'}",
                  *([f"<NAME>{_sgml(m.name[:32].strip())}"] if m.name[:32].strip() else []),
                  *([f"<MEMO>{_sgml(memo)}"] if memo else []), "</STMTTRN>"]
    lines += ["</BANKTRANLIST>", f"<LEDGERBAL><BALAMT>{closing:.2f}<DTASOF>{to_date:%Y%m%d}</LEDGERBAL>",
              "</STMTRS></STMTTRNRS></BANKMSGSRSV1>", "</OFX>", ""]
    return "\r\n".join(lines).encode("cp1252", errors="replace")


def _sgml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
