"""The pain.008.001.08 message (ISO 20022 customer direct debit initiation, SEPA Core scheme),
written with lxml from plain values and checked against the official XSD shipped in `xsd/`.

One payment information block (PmtInf) per sequence type, all on the batch's collection date;
amounts are Decimals written with two decimals, and every control sum is the exact sum of the
amounts it covers. Names and remittance texts are transliterated to the SEPA character set
(sepa.transliterate) and cut to the field's length.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from lxml import etree

from .sepa import amount_text, transliterate

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"
XSD = Path(__file__).parent / "xsd" / "pain.008.001.08.xsd"
NAME_MAX = 70  # Max140Text in the XSD, 70 in the EPC implementation guidelines
REMITTANCE_MAX = 140
SEQUENCE_ORDER = ("FRST", "RCUR", "FNAL", "OOFF")
# When the debtor's bank is not known (SEPA since 2016 needs only the IBAN).
NOT_PROVIDED = "NOTPROVIDED"


@dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str  # "" when unknown
    ics: str


@dataclass(frozen=True)
class Debit:
    end_to_end_id: str
    amount: Decimal
    sequence_type: str
    rum: str
    signed_on: date
    debtor_name: str
    iban: str
    bic: str  # "" when unknown
    remittance: str


class InvalidMessage(ValueError):
    """The message does not validate against the XSD (a bug: the input was checked before)."""


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}", **attributes)
    if text is not None:
        element.text = text
    return element


def _path(parent: etree._Element, tags: str, text: str) -> etree._Element:
    """`A/B/C` under parent, the last one holding text."""
    *heads, last = tags.split("/")
    for tag in heads:
        parent = _sub(parent, tag)
    return _sub(parent, last, text)


def _agent(parent: etree._Element, tag: str, bic: str) -> None:
    institution = _sub(_sub(parent, tag), "FinInstnId")
    if bic:
        _sub(institution, "BICFI", bic)
    else:
        _path(institution, "Othr/Id", NOT_PROVIDED)


def control_sum(debits: list[Debit]) -> Decimal:
    return sum((d.amount for d in debits), Decimal("0.00"))


def build(message_id: str, created_at: datetime, collection_date: date, creditor: Creditor,
          debits: list[Debit]) -> bytes:
    """The XML of the batch, valid against the pain.008.001.08 XSD (InvalidMessage otherwise)."""
    if not debits:
        raise ValueError("a batch holds at least one debit")
    root = etree.Element(f"{{{NAMESPACE}}}Document", nsmap={None: NAMESPACE})
    message = _sub(root, "CstmrDrctDbtInitn")
    header = _sub(message, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", str(len(debits)))
    _sub(header, "CtrlSum", amount_text(control_sum(debits)))
    _path(header, "InitgPty/Nm", transliterate(creditor.name, NAME_MAX))
    by_sequence: dict[str, list[Debit]] = defaultdict(list)
    for debit in debits:
        by_sequence[debit.sequence_type].append(debit)
    for sequence in sorted(by_sequence, key=SEQUENCE_ORDER.index):
        _payment_information(message, f"{message_id}-{sequence}"[:35], sequence, collection_date, creditor,
                             by_sequence[sequence])
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    problems = validation_errors(xml)
    if problems:
        raise InvalidMessage("; ".join(problems[:5]))
    return xml


def _payment_information(message: etree._Element, identifier: str, sequence: str, collection_date: date,
                         creditor: Creditor, debits: list[Debit]) -> None:
    block = _sub(message, "PmtInf")
    _sub(block, "PmtInfId", identifier)
    _sub(block, "PmtMtd", "DD")
    _sub(block, "BtchBookg", "true")
    _sub(block, "NbOfTxs", str(len(debits)))
    _sub(block, "CtrlSum", amount_text(control_sum(debits)))
    kind = _sub(block, "PmtTpInf")
    _path(kind, "SvcLvl/Cd", "SEPA")
    _path(kind, "LclInstrm/Cd", "CORE")
    _sub(kind, "SeqTp", sequence)
    _sub(block, "ReqdColltnDt", collection_date.isoformat())
    _path(block, "Cdtr/Nm", transliterate(creditor.name, NAME_MAX))
    _path(block, "CdtrAcct/Id/IBAN", creditor.iban)
    _agent(block, "CdtrAgt", creditor.bic)
    _sub(block, "ChrgBr", "SLEV")
    scheme = _path(block, "CdtrSchmeId/Id/PrvtId/Othr/Id", creditor.ics).getparent()
    _path(scheme, "SchmeNm/Prtry", "SEPA")
    for debit in debits:
        transaction = _sub(block, "DrctDbtTxInf")
        _path(transaction, "PmtId/EndToEndId", transliterate(debit.end_to_end_id, 35))
        _sub(transaction, "InstdAmt", amount_text(debit.amount), Ccy="EUR")
        mandate = _sub(_sub(transaction, "DrctDbtTx"), "MndtRltdInf")
        _sub(mandate, "MndtId", debit.rum)
        _sub(mandate, "DtOfSgntr", debit.signed_on.isoformat())
        _agent(transaction, "DbtrAgt", debit.bic)
        _path(transaction, "Dbtr/Nm", transliterate(debit.debtor_name, NAME_MAX))
        _path(transaction, "DbtrAcct/Id/IBAN", debit.iban)
        if debit.remittance:
            _path(transaction, "RmtInf/Ustrd", transliterate(debit.remittance, REMITTANCE_MAX))


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def validation_errors(xml: bytes) -> list[str]:
    """What the XSD finds wrong in `xml`, line by line (empty when it validates)."""
    schema = _schema()
    try:
        document = etree.fromstring(xml)
    except etree.XMLSyntaxError as error:
        return [str(error)]
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
