"""OFX bank statements, 1.x (SGML: leaf tags are not closed) and 2.x (XML). Pure: no Django.

The structure read (OFX 2.3 specification, §11 Banking): OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS with
CURDEF, BANKACCTFROM (BANKID, BRANCHID, ACCTID, ACCTKEY), BANKTRANLIST (DTSTART, DTEND, STMTTRN:
TRNTYPE, DTPOSTED, TRNAMT, FITID, NAME, MEMO) and LEDGERBAL. OFX carries no IBAN of the payer; the
account's IBAN is ACCTID when the bank writes one there, else it is made from the French RIB
(bank, branch, account, key).
"""

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .bankfile import BankFile, StatementFileError, Transaction, _, checked_amount, checked_iban

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9.]+)>([^<]*)")
_IBAN_LIKE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")
# Leaves some banks leave empty (`<NAME>` then the next tag): without a value they would look like aggregates.
_TEXT_LEAVES = {"NAME", "MEMO", "PAYEEID", "CHECKNUM", "REFNUM", "SIC", "EXTDNAME", "SRVRTID"}


@dataclass
class _Node:
    name: str
    line: int
    text: str = ""
    children: list["_Node"] = field(default_factory=list)

    def find(self, path: str) -> "_Node | None":
        node = self
        for step in path.split("/"):
            node = next((c for c in node.children if c.name == step), None)
            if node is None:
                return None
        return node

    def findall(self, name: str) -> list["_Node"]:
        return [c for c in self.children if c.name == name]

    def text_of(self, path: str) -> str:
        node = self.find(path)
        return " ".join(node.text.split()) if node else ""


def _tree(text: str) -> _Node:
    """The element tree of the OFX body; an SGML leaf (`<NAME>value` with no closing tag) closes itself."""
    start = text.upper().find("<OFX>")
    if start < 0:
        raise StatementFileError("", _("no <OFX> element"))
    root, stack = None, []
    tokens = list(_TOKEN.finditer(text, start))
    for i, token in enumerate(tokens):
        closing, name, value = token[1], token[2].upper(), token[3].strip()
        line = text.count("\n", 0, token.start()) + 1
        if closing:
            if not stack or stack[-1].name != name:
                raise StatementFileError(f"l. {line}", _("</%(name)s> closes nothing that is open (open: %(open)s)"),
                                         name=name, open=stack[-1].name if stack else "none")
            stack.pop()
            continue
        node = _Node(name, line, html.unescape(value))
        if stack:
            stack[-1].children.append(node)
        elif root is None:
            root = node
        else:
            raise StatementFileError(f"l. {line}", _("<%(name)s> after the end of <OFX>"), name=name)
        closed_next = i + 1 < len(tokens) and tokens[i + 1][1] and tokens[i + 1][2].upper() == name
        if closed_next or not (value or name in _TEXT_LEAVES):
            stack.append(node)
    if stack:
        raise StatementFileError(f"l. {text.count(chr(10)) + 1}",
                                 _("the file ends inside <%(name)s>: truncated"), name=stack[-1].name)
    return root


def parse(data: bytes) -> BankFile:
    text = data.decode("cp1252" if b"CHARSET:1252" in data[:1024] else "utf-8", errors="replace")
    root = _tree(text)
    rs = root.find("BANKMSGSRSV1/STMTTRNRS/STMTRS")
    if rs is None:
        raise StatementFileError("", _("no bank statement (OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS)"))
    currency = rs.text_of("CURDEF")
    if currency and currency != "EUR":
        raise StatementFileError(f"l. {rs.find('CURDEF').line}", _("an account in %(currency)s: only EUR is "
                                                                     "handled"), currency=currency)
    account = rs.find("BANKACCTFROM")
    if account is None:
        raise StatementFileError(f"l. {rs.line}", _("the statement names no account (BANKACCTFROM)"))
    iban = _account_iban(account)
    transactions_list = rs.find("BANKTRANLIST")
    items = transactions_list.findall("STMTTRN") if transactions_list else []
    transactions = [_transaction(node, n) for n, node in enumerate(items, start=1)]
    first_with = {}
    for tx in transactions:
        if tx.key in first_with:
            raise StatementFileError(tx.position, _("the FITID %(fitid)s is already the one of %(first)s: a bank "
                                                    "gives each movement its own"), fitid=tx.key,
                                     first=first_with[tx.key])
        first_with[tx.key] = tx.position
    start, end = (_day(transactions_list.text_of(tag), transactions_list, optional=True) if transactions_list
                  else None for tag in ("DTSTART", "DTEND"))
    ledger = rs.find("LEDGERBAL/BALAMT")
    # OFX has no statement number: the account, its period and its movements name it.
    digest = hashlib.sha256("|".join(t.key for t in transactions).encode()).hexdigest()[:12]
    return BankFile(format="ofx", account_iban=iban, statement_id=f"OFX-{start or ''}-{end or ''}-{digest}",
                    sequence="", from_date=start, to_date=end, opening_balance=None,
                    closing_balance=_amount(ledger) if ledger else None, transactions=tuple(transactions))


def _account_iban(account: _Node) -> str:
    where = f"BANKACCTFROM (l. {account.line})"
    number = account.text_of("ACCTID").replace(" ", "").upper()
    if _IBAN_LIKE.fullmatch(number):
        return checked_iban(number, where)
    bank, branch, key = account.text_of("BANKID"), account.text_of("BRANCHID"), account.text_of("ACCTKEY")
    if len(number) == 13 and not key:
        number, key = number[:11], number[11:]
    if not (len(bank) == 5 and len(branch) == 5 and len(number) == 11 and len(key) == 2):
        raise StatementFileError(where, _("the account is neither an IBAN nor a French RIB (bank, branch, account, "
                                          "key)"))
    bban = f"{bank}{branch}{number}{key}"
    try:
        return checked_iban(f"FR{98 - int(_digits(bban + 'FR00')) % 97:02d}{bban}", where)
    except StatementFileError:
        raise StatementFileError(where, _("the RIB %(rib)s has a bad key"), rib=f"{bank} {branch} {number} {key}") \
            from None


def _digits(text: str) -> str:
    """ISO 13616: letters become 10…35 to compute the check digits."""
    return "".join(str(int(c, 36)) for c in text)


def _transaction(node: _Node, n: int) -> Transaction:
    where = f"STMTTRN {n} (l. {node.line})"
    fitid = node.text_of("FITID")
    if not fitid:
        raise StatementFileError(where, _("a transaction without FITID"))
    amount_node = node.find("TRNAMT")
    if amount_node is None:
        raise StatementFileError(where, _("no amount (%(path)s)"), path="TRNAMT")
    name, memo = node.text_of("NAME"), node.text_of("MEMO")
    amount = _amount(amount_node, where)
    remittance = " ".join(filter(None, [name, memo]))
    return Transaction(key=fitid, booked_on=_day(node.text_of("DTPOSTED"), node), amount=amount,
                       counterparty_name=name, remittance=remittance, bank_reference=fitid,
                       bank_code=node.text_of("TRNTYPE"), position=where,
                       is_return=amount < 0 and bool(_RETURN_WORDS.search(_plain(remittance))))


# OFX has no return code: a debit is a direct debit coming back when its text says so (the French banks'
# "RETOUR PRLV", "REJET", "IMPAYE"; "RETURN", "REVERSAL", "R-TRANSACTION"); its reference is in the memo.
_RETURN_WORDS = re.compile(r"\b(RETOUR|REJET|REJETE|IMPAYE|IMPAYES|RETURN|RETURNED|REVERSAL|R-TRANSACTION)\b")


def _plain(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()


def _amount(node: _Node, where: str = "") -> Decimal:
    return checked_amount(node.text.replace(",", ".").replace(" ", ""), where or f"l. {node.line}")


def _day(value: str, node: _Node, *, optional: bool = False) -> date | None:
    if not value and optional:
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise StatementFileError(f"l. {node.line}", _("%(value)r is not a date"), value=value) from None
