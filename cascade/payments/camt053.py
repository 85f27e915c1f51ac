"""ISO 20022 bank-to-customer statements, camt.053.001.02 and later versions (.04, .08…). Pure: no Django.

The structure read (ISO 20022 message definition report, camt.053): Document/BkToCstmrStmt/Stmt with
Id, ElctrncSeqNb, FrToDt, Acct/Id/IBAN, Bal (OPBD/PRCD opening, CLBD closing) and the entries Ntry:
Amt, CdtDbtInd, Sts (BOOK; `<Sts><Cd>BOOK</Cd></Sts>` from version .08), BookgDt, AcctSvcrRef,
BkTxCd/Domn (Cd, Fmly/Cd, Fmly/SubFmlyCd) and NtryDtls/TxDtls: Refs (EndToEndId, AcctSvcrRef),
Amt or AmtDtls/TxAmt/Amt, RltdPties (Dbtr, DbtrAcct, Cdtr, CdtrAcct; the party under `Pty` from
.08), RmtInf (Ustrd, Strd/CdtrRefInf/Ref) and RtrInf/Rsn/Cd for a returned direct debit. Only
booked entries are movements; pending ones are left for the statement that books them.
"""

import re
from datetime import date
from decimal import Decimal

from lxml import etree

from .bankfile import BankFile, StatementFileError, Transaction, _, checked_amount, checked_iban

_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)")


class _Reader:
    """Paths written without the namespace (`Refs/EndToEndId`), searched in the document's one."""

    def __init__(self, namespace: str):
        self.ns = {"c": namespace}

    def _path(self, path: str) -> str:
        return "/".join(f"c:{step}" for step in path.split("/"))

    def find(self, element, path: str):
        return element.find(self._path(path), self.ns)

    def findall(self, element, path: str) -> list:
        return element.findall(self._path(path), self.ns)

    def text(self, element, *paths: str) -> str:
        for path in paths:
            found = element.findtext(self._path(path), None, self.ns)
            if found and found.strip():
                return " ".join(found.split())
        return ""


def parse(data: bytes) -> BankFile:
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError as error:
        line, column = error.position if error.position else (0, 0)
        raise StatementFileError(f"l. {line}, col. {column}", _("malformed or truncated XML (%(detail)s)"),
                                 detail=re.sub(r", line \d+, column \d+$", "", error.msg)) from None
    match = _NAMESPACE.fullmatch(etree.QName(root).namespace or "")
    if match is None or etree.QName(root).localname != "Document":
        raise StatementFileError("", _("not a camt.053 document (root %(root)s)"), root=root.tag)
    r = _Reader(match[0])
    statements = r.findall(root, "BkToCstmrStmt/Stmt")
    if len(statements) != 1:
        raise StatementFileError("", _("a file with %(n)s statements: one statement per file is expected"),
                                 n=len(statements))
    stmt = statements[0]
    statement_id = r.text(stmt, "Id")
    if not statement_id:
        raise StatementFileError("Stmt", _("the statement has no Id"))
    raw_iban = r.text(stmt, "Acct/Id/IBAN")
    if not raw_iban:
        raise StatementFileError("Stmt/Acct", _("the statement names no account IBAN"))
    currency = r.find(stmt, "Acct/Ccy")
    if currency is not None and not (currency.text or "").strip():
        raise StatementFileError("Stmt/Acct/Ccy", _("no currency (%(path)s is empty): only EUR is handled"),
                                 path="Ccy")
    if currency is not None and currency.text.strip() != "EUR":
        raise StatementFileError("Stmt/Acct/Ccy", _("an account in %(currency)s: only EUR is handled"),
                                 currency=currency.text.strip())
    balances = {}
    for bal in r.findall(stmt, "Bal"):
        code = r.text(bal, "Tp/CdOrPrtry/Cd")
        amount = _amount(r, bal, "Amt", f"Stmt/Bal {code}")
        balances[code] = -amount if r.text(bal, "CdtDbtInd") == "DBIT" else amount
    transactions = []
    for n, entry in enumerate(r.findall(stmt, "Ntry"), start=1):
        transactions += _entry(r, entry, n)
    return BankFile(
        format="camt.053", account_iban=checked_iban(raw_iban, "Stmt/Acct/Id/IBAN"), statement_id=statement_id,
        sequence=r.text(stmt, "ElctrncSeqNb", "LglSeqNb"),
        from_date=_day(r.text(stmt, "FrToDt/FrDtTm"), "Stmt/FrToDt", optional=True),
        to_date=_day(r.text(stmt, "FrToDt/ToDtTm"), "Stmt/FrToDt", optional=True),
        opening_balance=balances.get("OPBD", balances.get("PRCD")), closing_balance=balances.get("CLBD"),
        transactions=tuple(transactions))


def _entry(r: _Reader, entry, n: int) -> list[Transaction]:
    where = f"Ntry {n}"
    status = r.text(entry, "Sts", "Sts/Cd")
    if status != "BOOK":
        return []
    direction = r.text(entry, "CdtDbtInd")
    if direction not in ("CRDT", "DBIT"):
        raise StatementFileError(where, _("CdtDbtInd is %(value)r, not CRDT or DBIT"), value=direction)
    amount = _amount(r, entry, "Amt", where)
    booked_on = _day(r.text(entry, "BookgDt/Dt", "BookgDt/DtTm"), where)
    entry_ref = r.text(entry, "AcctSvcrRef", "NtryRef")
    entry_code = _bank_code(r, entry)
    details = r.findall(entry, "NtryDtls/TxDtls")
    if not details:
        key = entry_ref or f"{booked_on:%Y%m%d}/{direction}/{amount}/{n}"
        return [Transaction(key=key, booked_on=booked_on, amount=amount if direction == "CRDT" else -amount,
                            remittance=r.text(entry, "AddtlNtryInf"), bank_reference=entry_ref,
                            bank_code=entry_code, position=where,
                            is_return=direction == "DBIT" and _is_return(entry_code, False))]
    found = []
    for i, tx in enumerate(details, start=1):
        tx_where = f"{where}/TxDtls {i}"
        tx_amount = (_amount(r, tx, "Amt", tx_where) if r.find(tx, "Amt") is not None
                     else _amount(r, tx, "AmtDtls/TxAmt/Amt", tx_where) if r.find(tx, "AmtDtls/TxAmt/Amt") is not None
                     else amount if len(details) == 1 else None)
        if tx_amount is None:
            raise StatementFileError(tx_where, _("a transaction of a batch entry without its amount"))
        tx_direction = r.text(tx, "CdtDbtInd") or direction
        code = _bank_code(r, tx) or entry_code
        returned = r.find(tx, "RtrInf") is not None
        # The party on the other side: who paid us on a credit, whom we paid on a debit. On a returned
        # direct debit the debtor is still our customer.
        side = "Dbtr" if tx_direction == "CRDT" or returned else "Cdtr"
        name = r.text(tx, f"RltdPties/{side}/Nm", f"RltdPties/{side}/Pty/Nm")
        iban = r.text(tx, f"RltdPties/{side}Acct/Id/IBAN")
        tx_ref = r.text(tx, "Refs/AcctSvcrRef")
        remittance = " ".join(filter(None, [*(" ".join(u.text.split()) for u in r.findall(tx, "RmtInf/Ustrd")
                                              if u.text), *(r.text(s, "CdtrRefInf/Ref") for s in
                                                            r.findall(tx, "RmtInf/Strd")),
                                            r.text(tx, "AddtlTxInf")]))
        end_to_end = r.text(tx, "Refs/EndToEndId")
        found.append(Transaction(
            key=tx_ref or (f"{entry_ref}/{i}" if entry_ref else f"{booked_on:%Y%m%d}/{end_to_end}/{tx_amount}/{n}/{i}"),
            booked_on=booked_on, amount=tx_amount if tx_direction == "CRDT" else -tx_amount,
            counterparty_name=name, counterparty_iban=checked_iban(iban, f"{tx_where}/{side}Acct") if iban else "",
            remittance=remittance, end_to_end_id="" if end_to_end == "NOTPROVIDED" else end_to_end,
            bank_reference=tx_ref or entry_ref, bank_code=code, position=tx_where,
            is_return=tx_direction == "DBIT" and _is_return(code, returned),
            return_reason=" ".join(filter(None, [r.text(tx, "RtrInf/Rsn/Cd", "RtrInf/Rsn/Prtry"),
                                                 r.text(tx, "RtrInf/AddtlInf")]))))
    return found


def _bank_code(r: _Reader, element) -> str:
    parts = [r.text(element, "BkTxCd/Domn/Cd"), r.text(element, "BkTxCd/Domn/Fmly/Cd"),
             r.text(element, "BkTxCd/Domn/Fmly/SubFmlyCd")]
    return "/".join(parts) if any(parts) else ""


def _is_return(code: str, has_return_information: bool) -> bool:
    """A direct debit coming back: RtrInf given, or the code says so (family IDDT: UPDD unpaid,
    RRTN/RJCT reversal or reject; any debit of the family IDDT is a collection undone)."""
    steps = code.split("/")
    return has_return_information or (len(steps) == 3 and (steps[1] == "IDDT" or steps[2] == "UPDD"))


def _amount(r: _Reader, element, path: str, where: str) -> Decimal:
    found = r.find(element, path)
    if found is None or not (found.text or "").strip():
        raise StatementFileError(where, _("no amount (%(path)s)"), path=path)
    if not found.get("Ccy", "EUR").strip():
        raise StatementFileError(where, _("no currency (%(path)s is empty): only EUR is handled"), path=f"{path}/@Ccy")
    if found.get("Ccy", "EUR").strip() != "EUR":
        raise StatementFileError(where, _("an amount in %(currency)s: only EUR is handled"),
                                 currency=found.get("Ccy"))
    value = checked_amount(found.text.strip(), where)
    if value < 0:
        raise StatementFileError(where, _("%(amount)r is not an amount in euros and cents"),
                                 amount=found.text.strip())
    return value


def _day(value: str, where: str, *, optional: bool = False) -> date | None:
    if not value and optional:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise StatementFileError(where, _("%(value)r is not a date"), value=value) from None
