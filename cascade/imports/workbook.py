"""Reading and checking the operator's workbook (.xlsx), without touching the database.

`read_workbook` returns the normalised content of the sheets Structure, Lieux, Espaces,
Grille tarifaire, Occupants and Occupations, and every fault found, each pinned to a sheet,
a row number as the spreadsheet shows it, a column and the value as written. Rows with a
fault are left out of the content: an importer imports nothing while there are faults.
Columns are found by their header text, wherever they are and whatever the case or accents.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import BinaryIO, Literal, TypeGuard, TypeVar

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from cascade.imports import cells
from cascade.imports.cells import CellError, _

T = TypeVar("T")
Frequency = Literal["monthly", "quarterly"]
Term = Literal["advance", "arrears"]

STRUCTURE = "Structure"
PLACES = "Lieux"
SPACES = "Espaces"
PRICES = "Grille tarifaire"
OCCUPANTS = "Occupants"
OCCUPATIONS = "Occupations"
SHEETS = (STRUCTURE, PLACES, SPACES, PRICES, OCCUPANTS, OCCUPATIONS)
EXPENSES = "Dépenses"
# Read when the workbook has them; a workbook without them imports all the same.
OPTIONAL_SHEETS = (EXPENSES,)

# How far down a title and notes may push the header row.
_HEADER_SEARCH_ROWS = 20
_CENT = Decimal("0.01")
_FRENCH_VAT_RATES = {Decimal(20), Decimal(10), Decimal("5.5"), Decimal("2.1")}
# "TOTAL", "Totaux", "Total HT", "Total (TTC) :", "Sous-total"… but not "Total Solidarité".
_TOTAL = re.compile(r"(?P<sub>sous-? ?)?(total|totaux)( (general|generaux|ht|ttc|\(ht\)|\(ttc\)))*\s*:?")


@dataclass(frozen=True)
class Fault:
    """One problem in the workbook, where the operator can find and fix it."""

    sheet: str
    row: int
    column: str
    value: str
    problem: str  # in English, as the command prints it and its JSON gives it
    template: str = field(default="", compare=False)  # `problem` before its values were put in
    params: tuple[tuple[str, object], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, sheet: str, row: int, column: str, value: str, problem: str, /, **params: object) -> Fault:
        return cls(sheet, row, column, value, problem % params if params else problem, problem,
                   tuple(params.items()))

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The problem in the interface's language, `gettext` being its translation function."""
        text = gettext(self.template or self.problem)
        return text % dict(self.params) if self.params else text

    def as_dict(self) -> dict[str, str | int]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class OperatorRow:
    name: str
    legal_form: str
    siret: str
    vat_number: str | None
    iban: str
    ics: str | None
    address: str


@dataclass(frozen=True)
class PlaceRow:
    row: int
    name: str
    address: str
    owner: str | None
    convention_start: date
    convention_end: date
    vat_option: bool
    vat_rate: Decimal | None
    co_managers: list[tuple[str, Decimal]] = field(hash=False)


@dataclass(frozen=True)
class SpaceRow:
    row: int
    place: str
    building: str | None
    floor: str | None
    reference: str
    type: str
    surface: Decimal | None
    capacity: int | None
    accessible: bool
    parent: str | None


@dataclass(frozen=True)
class PriceRow:
    row: int
    category: str
    rent: Decimal
    flat: bool
    deposit_months: Decimal | None
    fluids_per_m2: Decimal | None


@dataclass(frozen=True)
class OccupantRow:
    row: int
    name: str
    legal_form: str | None
    category: str
    siret: str | None
    contact: str | None
    email: str | None
    phone: str | None
    address: str
    iban: str | None
    is_member: bool


@dataclass(frozen=True)
class OccupationRow:
    row: int
    occupant: str
    place: str
    references: tuple[str, ...]
    entry: date
    exit: date | None
    rent: Decimal
    fluids: Decimal | None
    deposit: Decimal | None
    frequency: Frequency
    term: Term
    remarks: str | None


@dataclass(frozen=True)
class SupplierBillRow:
    row: int
    date: date
    place: str
    supplier: str
    category: str
    excl_vat: Decimal
    vat_rate: Decimal
    vat: Decimal
    incl_vat: Decimal
    number: str
    grant: str | None


@dataclass(frozen=True)
class WorkbookReading:
    faults: list[Fault] = field(default_factory=list)
    operator: OperatorRow | None = None
    places: list[PlaceRow] = field(default_factory=list)
    spaces: list[SpaceRow] = field(default_factory=list)
    prices: list[PriceRow] = field(default_factory=list)
    occupants: list[OccupantRow] = field(default_factory=list)
    occupations: list[OccupationRow] = field(default_factory=list)
    bills: list[SupplierBillRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


@dataclass(frozen=True)
class _Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = True  # the column must be in the sheet, not that every cell is filled
    max_length: int | None = None  # what the database keeps (tests/test_import_limits.py checks it)


# The largest values the database keeps: amounts with 12 digits, surfaces with 10 (2 decimals),
# capacities as 32-bit integers. A larger cell is a fault, not a crash at import or billing time.
MAX_AMOUNT = Decimal("9999999999.99")
MAX_SURFACE = Decimal("99999999.99")
MAX_CAPACITY = 2_147_483_647


_COLUMNS: dict[str, tuple[_Column, ...]] = {
    STRUCTURE: (
        _Column("name", "Raison sociale", ("Nom", "Dénomination"), max_length=200),
        _Column("legal_form", "Forme", ("Forme juridique",), max_length=100),
        _Column("siret", "SIRET"),
        _Column("vat_number", "N° TVA", ("TVA intracommunautaire", "Numéro de TVA")),
        _Column("iban", "IBAN"),
        _Column("ics", "ICS (SEPA)", ("ICS",)),
        _Column("address", "Adresse"),
    ),
    PLACES: (
        _Column("name", "Nom du lieu", ("Lieu",), max_length=200),
        _Column("address", "Adresse"),
        _Column("owner", "Propriétaire", required=False, max_length=200),
        _Column("convention_start", "Début convention"),
        _Column("convention_end", "Fin convention"),
        _Column("vat", "Régime TVA", ("TVA",)),
        _Column("co_managers", "Co-gestionnaires", required=False),
    ),
    SPACES: (
        _Column("place", "Lieu"),
        _Column("building", "Bâtiment", required=False, max_length=100),
        _Column("floor", "Étage", required=False, max_length=20),
        _Column("reference", "Réf. local", ("Référence", "Réf.", "Local"), max_length=50),
        _Column("type", "Type", max_length=100),
        _Column("surface", "Surface (m²)", ("Surface",)),
        _Column("capacity", "Capacité", required=False),
        _Column("accessible", "Accessible PMR", ("PMR",), required=False),
        _Column("parent", "Fait partie de", required=False),
    ),
    PRICES: (
        _Column("category", "Catégorie", max_length=100),
        _Column("rent", "Redevance €/m²/mois HT", ("Redevance",)),
        _Column("deposit_months", "Dépôt de garantie (mois)", required=False),
        _Column("fluids", "Provision fluides €/m²/mois", required=False),
    ),
    OCCUPANTS: (
        _Column("name", "Nom / raison sociale", ("Nom", "Raison sociale"), max_length=200),
        _Column("legal_form", "Forme juridique", required=False, max_length=100),
        _Column("category", "Catégorie tarifaire", ("Catégorie",)),
        _Column("siret", "SIRET", required=False),
        _Column("contact", "Contact", required=False, max_length=200),
        _Column("email", "E-mail", ("Email", "Courriel"), max_length=254),
        _Column("phone", "Téléphone", required=False, max_length=40),
        _Column("address", "Adresse de facturation", ("Adresse",)),
        _Column("iban", "IBAN (prélèvement)", ("IBAN",), required=False),
        _Column("member", "Sociétaire", required=False),
    ),
    OCCUPATIONS: (
        _Column("occupant", "Occupant"),
        _Column("place", "Lieu"),
        _Column("references", "Local(aux)", ("Locaux", "Local")),
        _Column("entry", "Date d'entrée", ("Entrée",)),
        _Column("exit", "Date de sortie", ("Sortie",)),
        _Column("rent", "Redevance HT / mois", ("Redevance",)),
        _Column("fluids", "Provision fluides / mois", required=False),
        _Column("deposit", "Dépôt de garantie", required=False),
        _Column("frequency", "Périodicité"),
        _Column("term", "Terme"),
        _Column("remarks", "Remarques", required=False),
    ),
    EXPENSES: (
        _Column("date", "Date"),
        _Column("place", "Lieu"),
        _Column("supplier", "Fournisseur", max_length=200),
        _Column("category", "Catégorie", max_length=100),
        _Column("excl_vat", "Montant HT"),
        _Column("vat_rate", "Taux TVA (%)", ("Taux TVA", "TVA (%)")),
        _Column("incl_vat", "Montant TTC"),
        _Column("number", "Réf. facture", ("N° facture", "Facture"), max_length=60),
        _Column("grant", "Subvention affectée", required=False, max_length=200),
    ),
}


def read_workbook(source: str | Path | BinaryIO) -> WorkbookReading:
    """Read and check the operator's workbook; see `WorkbookReading.faults` before using it."""
    faults: list[Fault] = []
    tables: dict[str, _Table | None] = {}
    try:
        raw = _sheet_rows(source)
    except (InvalidFileException, zipfile.BadZipFile, KeyError):
        return WorkbookReading([Fault.of("", 0, "", "", _("file that is not an Excel workbook (.xlsx)"))])
    except Exception:  # openpyxl fails in many ways (XML, zip, types) on a damaged file
        return WorkbookReading([Fault.of("", 0, "", "", _("damaged Excel workbook: open it and save it again"))])
    for name in SHEETS:
        if raw[name] is None:
            faults.append(Fault.of(name, 0, "", "", _("required sheet missing")))
            tables[name] = None
        else:
            title, rows = raw[name]
            tables[name] = _Table.read(title, rows)
    for name in OPTIONAL_SHEETS:
        tables[name] = _Table.read(*raw[name]) if raw[name] is not None else None

    prices, categories = _read_prices(tables[PRICES])
    places, place_index = _read_places(tables[PLACES])
    spaces, space_index = _read_spaces(tables[SPACES], place_index)
    occupants, occupant_index = _read_occupants(tables[OCCUPANTS], categories)
    occupations = _read_occupations(tables[OCCUPATIONS], occupant_index, place_index, space_index)
    operator = _read_operator(tables[STRUCTURE], needs_vat=any(p.vat_option for p in places))
    bills = _read_bills(tables[EXPENSES], place_index)

    for table in tables.values():
        if table is not None:
            faults.extend(table.faults)
    order = {name: i for i, name in enumerate(SHEETS + OPTIONAL_SHEETS)}
    faults.sort(key=lambda f: (order.get(_canonical_sheet(f.sheet), len(order)), f.row))
    return WorkbookReading(faults, operator, places, spaces, prices, occupants, occupations, bills)


def _sheet_rows(source: str | Path | BinaryIO) -> dict[str, tuple[str, list[tuple[object, ...]]] | None]:
    """The rows of each sheet Cascade reads, by canonical name, with the sheet's own title."""
    with warnings.catch_warnings():
        # openpyxl warns about spreadsheet features it drops (validation lists, styles).
        warnings.simplefilter("ignore", UserWarning)
        # Read-only: sheets are parsed as they are read, and the ignored ones never are.
        book = openpyxl.load_workbook(source, data_only=True, read_only=True)
    try:
        sheets = {cells.normalise(name): book[name] for name in book.sheetnames}
        found = {name: sheets.get(cells.normalise(name)) for name in SHEETS + OPTIONAL_SHEETS}
        return {name: (sheet.title, list(sheet.iter_rows(values_only=True))) if sheet is not None else None
                for name, sheet in found.items()}
    finally:
        book.close()


def _canonical_sheet(title: str) -> str:
    return next((name for name in SHEETS + OPTIONAL_SHEETS if cells.normalise(name) == cells.normalise(title)), title)


def _name_key(v: object) -> str:
    """Names match across sheets whatever their case and stray spaces."""
    return (cells.text(v) or "").casefold()


class _Table:
    """The data rows of one sheet under its header row, with the faults found in them."""

    def __init__(self, title: str, kind: str) -> None:
        self.title = title
        self.columns = _COLUMNS[kind]
        self.header_row = 0
        self.positions: dict[str, tuple[int, str]] = {}
        self.rows: list[_Row] = []
        self.faults: list[Fault] = []

    @property
    def incomplete(self) -> bool:
        """A required column is missing: rows are checked but none can be used."""
        return any(c.required and c.key not in self.positions for c in self.columns)

    @classmethod
    def read(cls, title: str, values: Iterable[tuple[object, ...]]) -> _Table:
        table = cls(title, _canonical_sheet(title))
        lines = list(enumerate(values, start=1))
        table._find_header(lines[:_HEADER_SEARCH_ROWS])
        if table.header_row:
            for number, line in lines[table.header_row :]:
                if _is_blank(line):
                    continue
                total = _total_kind(line)
                if total == "total":
                    break  # what follows the grand total is notes, not data
                if total is None:
                    table.rows.append(_Row(table, number, line))
        return table

    def _find_header(self, lines: list[tuple[int, tuple[object, ...]]]) -> None:
        names = {
            cells.normalise(name): column.key
            for column in self.columns
            for name in (column.header, *column.aliases)
        }
        best: tuple[int, int] = (0, 0)
        for number, line in lines:
            found = {names[k] for k in map(cells.normalise, line) if k in names}
            if len(found) > best[0]:
                best = (len(found), number)
        if best[0] < 2:
            self.fault(0, "", "", _("header row not found"))
            return
        self.header_row = best[1]
        for index, value in enumerate(lines[self.header_row - 1][1]):
            key = names.get(cells.normalise(value))
            if key is None:
                continue
            written = cells.text(value) or ""
            if key in self.positions:
                self.fault(self.header_row, written, "", _("column appears twice"))
            else:
                self.positions[key] = (index, written)
        for column in self.columns:
            if column.required and column.key not in self.positions:
                self.fault(self.header_row, column.header, "", _("required column missing"))

    def column(self, key: str) -> _Column:
        return next(c for c in self.columns if c.key == key)

    def header(self, key: str) -> str:
        if key in self.positions:
            return self.positions[key][1]
        return next(c.header for c in self.columns if c.key == key)

    def fault(self, row: int, column: str, value: str, problem: str, /, **params: object) -> None:
        fault = Fault.of(self.title, row, column, value, problem, **params)
        if fault not in self.faults:
            self.faults.append(fault)


def _is_blank(line: tuple[object, ...]) -> bool:
    return all(cells.is_blank(v) for v in line)


def _total_kind(line: tuple[object, ...]) -> str | None:
    """"total" for a grand total row, "subtotal" for a sub-total, None for a data row."""
    first = next(v for v in line if not cells.is_blank(v))
    match = _TOTAL.fullmatch(cells.normalise(first))
    if match is None:
        return None
    return "subtotal" if match["sub"] else "total"


class _Row:
    """One data row; parsing a cell records a fault for it instead of raising."""

    def __init__(self, table: _Table, number: int, line: tuple[object, ...]) -> None:
        self.table = table
        self.number = number
        self.line = line
        self.fault_count = 0

    @property
    def ok(self) -> bool:
        return self.fault_count == 0 and not self.table.incomplete

    def raw(self, key: str) -> object:
        position = self.table.positions.get(key)
        if position is None or position[0] >= len(self.line):
            return None
        return self.line[position[0]]

    def fault(self, key: str, problem: str, value: str | None = None, /, **params: object) -> None:
        shown = cells.display(self.raw(key)) if value is None else value
        self.table.fault(self.number, self.table.header(key), shown, problem, **params)
        self.fault_count += 1

    def get(self, key: str, parse: Callable[[object], T], *, required: bool = True) -> T | None:
        raw = self.raw(key)
        if cells.is_blank(raw):
            # A missing column is one fault on the header row, not one on every row.
            if required and key in self.table.positions:
                self.fault(key, cells.REQUIRED)
            return None
        try:
            value = parse(raw)
        except CellError as error:
            self.fault(key, error.problem)
            return None
        limit = self.table.column(key).max_length
        if limit and isinstance(value, str) and len(value) > limit:
            self.fault(key, _("text longer than %(limit)s characters"), limit=limit)
            return None
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        return self.get(key, cells.text, required=required)

    def amount(self, key: str, *, required: bool = False, cents: bool = False) -> Decimal | None:
        """A non-negative amount; `cents` for money actually billed, which has no fractions."""
        amount = self.get(key, cells.decimal_fr, required=required)
        if amount is None:
            return None
        if amount < 0:
            self.fault(key, _("negative amount"))
            return None
        if amount > MAX_AMOUNT:
            self.fault(key, _("amount too large"))
            return None
        if cents:
            if amount != amount.quantize(_CENT):
                self.fault(key, _("amount with more than two decimals"))
                return None
            amount = amount.quantize(_CENT)
        return amount


_LISTED_TWICE = {"place": _("place listed twice (row %(row)s)"),
                 "category": _("category listed twice (row %(row)s)"),
                 "occupant": _("occupant listed twice (row %(row)s)")}


def _check_unique(row: _Row, key: str, value: str, seen: dict[str, int], what: str) -> bool:
    """Record the first row of each value; fault later ones, naming the first."""
    index = value.casefold()
    if index in seen:
        row.fault(key, _LISTED_TWICE[what], row=seen[index])
        return False
    seen[index] = row.number
    return True


def _usable(table: _Table | None, *keys: str) -> TypeGuard[_Table]:
    """A sheet can be read when its header is found with the columns that name its rows."""
    return table is not None and bool(table.header_row) and all(k in table.positions for k in keys)


def _read_operator(table: _Table | None, *, needs_vat: bool) -> OperatorRow | None:
    if not _usable(table):
        return None
    if not table.rows:
        table.fault(table.header_row, "", "", _("operator row missing"))
        return None
    for extra in table.rows[1:]:
        table.fault(extra.number, "", "", _("only one operator row expected"))
    row = table.rows[0]
    name = row.text("name")
    siret = row.get("siret", cells.siret)
    vat_number = row.get("vat_number", cells.vat_number, required=needs_vat)
    if siret and vat_number and vat_number.startswith("FR") and vat_number[4:] != siret[:9]:
        row.fault("vat_number", _("VAT number that does not match the SIRET"))
    iban = row.get("iban", cells.iban)
    ics = row.get("ics", cells.creditor_id, required=False)
    address = row.text("address")
    # The legal form is a mandatory mention on the invoices the operator issues.
    legal_form = row.text("legal_form")
    if not row.ok:
        return None
    return OperatorRow(name, legal_form, siret, vat_number, iban, ics, address)


@dataclass(frozen=True)
class _Place:
    name: str
    start: date | None
    end: date | None


def _vat_regime(v: object) -> tuple[bool, Decimal | None]:
    """'Option TVA 20 %' -> (True, 20); 'Exonéré (art. 261 D 2° CGI)' -> (False, None)."""
    regime = cells.normalise(v)
    if regime.startswith(("exonere", "exoneration", "non assujetti", "hors champ")):
        return False, None
    if "option" in regime:
        rate = re.search(r"(\d+(?:[.,]\d+)?)\s*%", regime)
        if rate is None:
            raise CellError(_("VAT option without a rate"))
        value = cells.decimal_fr(rate[1], noun="rate")
        if value not in _FRENCH_VAT_RATES:
            raise CellError(_("VAT rate that does not exist in France"))
        return True, value
    raise CellError(_("unknown VAT regime"))


def _read_places(table: _Table | None) -> tuple[list[PlaceRow], dict[str, _Place] | None]:
    if not _usable(table, "name"):
        return [], None
    places: list[PlaceRow] = []
    index: dict[str, _Place] = {}
    seen: dict[str, int] = {}
    for row in table.rows:
        name = row.text("name")
        start = row.get("convention_start", cells.date_fr)
        end = row.get("convention_end", cells.date_fr)
        if start and end and end < start:
            row.fault("convention_end", _("convention end before convention start"))
            end = None
        if name and _check_unique(row, "name", name, seen, "place"):
            index[_name_key(name)] = _Place(name, start, end)
        address = row.text("address")
        owner = row.text("owner", required=False)
        vat = row.get("vat", _vat_regime)
        co_managers = row.get("co_managers", cells.percent_shares, required=False) or []
        if row.ok:
            places.append(PlaceRow(row.number, name, address, owner, start, end, *vat, co_managers))
    return places, index


@dataclass(frozen=True)
class _Space:
    row: int
    type: str
    parent: str | None = None


def _read_spaces(
    table: _Table | None, place_index: dict[str, _Place] | None
) -> tuple[list[SpaceRow], dict[str, dict[str, _Space]] | None]:
    """Spaces by place; a space is known (for the Occupations sheet) even with a bad surface."""
    if not _usable(table, "place", "reference"):
        return [], None
    index: dict[str, dict[str, _Space]] = {}
    pending: list[tuple[_Row, dict[str, object]]] = []
    for row in table.rows:
        place = _known_place(row, place_index)
        reference = row.get("reference", cells.reference)
        kind = row.text("type")
        parent = row.get("parent", cells.reference, required=False)
        if place and reference:
            in_place = index.setdefault(_name_key(place), {})
            if reference in in_place:
                first = in_place[reference].row
                row.fault("reference", _("space reference listed twice in this place (row %(row)s)"), row=first)
            else:
                in_place[reference] = _Space(row.number, cells.normalise(kind), parent)
        surface = row.get("surface", partial(cells.decimal_fr, noun="surface"), required=False)
        if surface is not None and surface < 0:
            row.fault("surface", _("negative surface"))
        elif surface is not None and surface > MAX_SURFACE:
            row.fault("surface", _("surface too large"))
        elif surface is not None and surface != surface.quantize(_CENT):
            row.fault("surface", _("surface with more than two decimals"))
        capacity = row.get("capacity", partial(cells.integer, noun="capacity"), required=False)
        if capacity is not None and capacity < 0:
            row.fault("capacity", _("negative capacity"))
        elif capacity is not None and capacity > MAX_CAPACITY:
            row.fault("capacity", _("capacity too large"))
        values = {
            "place": place,
            "building": row.text("building", required=False),
            "floor": row.text("floor", required=False),
            "reference": reference,
            "type": kind,
            "surface": surface,
            "capacity": capacity,
            "accessible": row.get("accessible", cells.yes_no, required=False) or False,
            "parent": parent,
        }
        pending.append((row, values))
    spaces = []
    for row, values in pending:
        parent = values["parent"]
        if parent and values["place"]:
            siblings = index.get(_name_key(values["place"]), {})
            if parent == values["reference"]:
                row.fault("parent", _("space that is part of itself"))
            elif parent not in siblings:
                row.fault("parent", _("unknown parent space"))
            elif siblings[parent].parent is not None:
                # One level only (an open space and its desks): no chains, hence no cycles.
                row.fault("parent", _("parent space that is itself part of another space"))
        if row.ok:
            spaces.append(SpaceRow(row.number, **values))
    return spaces, index


def _known_place(row: _Row, place_index: dict[str, _Place] | None) -> str | None:
    """The place's name as the Lieux sheet writes it, or None with a fault."""
    name = row.text("place")
    if name is None or place_index is None:
        return name
    place = place_index.get(_name_key(name))
    if place is None:
        row.fault("place", _("unknown place"))
        return None
    return place.name


def _read_prices(table: _Table | None) -> tuple[list[PriceRow], dict[str, str] | None]:
    if not _usable(table, "category"):
        return [], None
    prices: list[PriceRow] = []
    categories: dict[str, str] = {}
    seen: dict[str, int] = {}
    for row in table.rows:
        category = row.text("category")
        if category and _check_unique(row, "category", category, seen, "category"):
            categories[_name_key(category)] = category
        rent = row.amount("rent", required=True, cents=True)
        deposit_months = row.amount("deposit_months")
        fluids = row.amount("fluids", cents=True)
        if row.ok:
            flat = cells.normalise(category).startswith("forfait")
            prices.append(PriceRow(row.number, category, rent, flat, deposit_months, fluids))
    return prices, categories


def _read_occupants(
    table: _Table | None, categories: dict[str, str] | None
) -> tuple[list[OccupantRow], dict[str, str] | None]:
    if not _usable(table, "name"):
        return [], None
    occupants: list[OccupantRow] = []
    index: dict[str, str] = {}
    seen_names: dict[str, int] = {}
    seen_sirets: dict[str, int] = {}
    for row in table.rows:
        name = row.text("name")
        if name and _check_unique(row, "name", name, seen_names, "occupant"):
            index[_name_key(name)] = name
        category = row.text("category")
        if category and categories is not None:
            category = categories.get(_name_key(category))
            if category is None:
                row.fault("category", _("category absent from the price grid"))
        siret = row.get("siret", cells.siret, required=False)
        if siret and siret in seen_sirets:
            row.fault("siret", _("SIRET already used by another occupant (row %(row)s)"), row=seen_sirets[siret])
        elif siret:
            seen_sirets[siret] = row.number
        values = {
            "legal_form": row.text("legal_form", required=False),
            "siret": siret,
            "contact": row.text("contact", required=False),
            "email": row.get("email", cells.email, required=False),
            "phone": row.text("phone", required=False),
            "address": row.text("address"),
            "iban": row.get("iban", cells.iban, required=False),
            "is_member": row.get("member", cells.yes_no, required=False) or False,
        }
        if row.ok:
            occupants.append(OccupantRow(row.number, name=name, category=category, **values))
    return occupants, index


_FREQUENCIES: dict[str, Frequency] = {
    "mensuelle": "monthly",
    "mensuel": "monthly",
    "trimestrielle": "quarterly",
    "trimestriel": "quarterly",
}
_TERMS: dict[str, Term] = {
    "a echoir": "advance",
    "terme a echoir": "advance",
    "a terme echu": "arrears",
    "terme echu": "arrears",
    "echu": "arrears",
}


def _frequency(v: object) -> Frequency:
    try:
        return _FREQUENCIES[cells.normalise(v)]
    except KeyError:
        raise CellError(_("unknown frequency (Mensuelle or Trimestrielle)")) from None


def _term(v: object) -> Term:
    try:
        return _TERMS[cells.normalise(v)]
    except KeyError:
        raise CellError(_("unknown billing term (À échoir or À terme échu)")) from None


@dataclass(frozen=True)
class _Stay:
    """One space held by one occupation row, for the overlap check."""

    row: _Row
    occupant: str
    reference: str
    entry: date
    last_day: date


def _read_occupations(
    table: _Table | None,
    occupant_index: dict[str, str] | None,
    place_index: dict[str, _Place] | None,
    space_index: dict[str, dict[str, _Space]] | None,
) -> list[OccupationRow]:
    if not _usable(table):
        return []
    pending: list[tuple[_Row, dict[str, object]]] = []
    stays: dict[tuple[str, str], list[_Stay]] = {}
    for row in table.rows:
        occupant = row.text("occupant")
        if occupant and occupant_index is not None:
            occupant = occupant_index.get(_name_key(occupant))
            if occupant is None:
                row.fault("occupant", _("occupant missing from the Occupants sheet"))
        place = _known_place(row, place_index)
        references = row.get("references", cells.reference_list)
        if place and references and space_index is not None:
            _check_spaces(row, place, references, space_index)
        entry = row.get("entry", cells.date_fr)
        exit_ = row.get("exit", cells.date_fr, required=False)
        dates_ok = entry is not None and (exit_ is not None or cells.is_blank(row.raw("exit")))
        if entry and exit_ and exit_ < entry:
            row.fault("exit", _("exit date before entry date"))
            dates_ok = False
        convention = place_index.get(_name_key(place)) if place and place_index else None
        if entry and convention:
            _check_convention(row, entry, exit_, convention)
        if dates_ok and place and references and space_index is not None:
            last_day = exit_ or (convention.end if convention and convention.end else date.max)
            for reference in references:
                if reference in space_index.get(_name_key(place), {}):
                    stay = _Stay(
                        row, _name_key(occupant or row.raw("occupant")), reference, entry, last_day
                    )
                    stays.setdefault((_name_key(place), reference), []).append(stay)
        values = {
            "occupant": occupant,
            "place": place,
            "references": references,
            "entry": entry,
            "exit": exit_,
            "rent": row.amount("rent", required=True, cents=True),
            "fluids": row.amount("fluids", cents=True),
            "deposit": row.amount("deposit", cents=True),
            "frequency": row.get("frequency", _frequency),
            "term": row.get("term", _term),
            "remarks": row.text("remarks", required=False),
        }
        pending.append((row, values))
    for (place_key, reference), held in stays.items():
        _check_overlaps(held)
        parent = (space_index or {}).get(place_key, {}).get(reference)
        if parent is not None and parent.parent is not None:
            _check_overlaps(held, stays.get((place_key, parent.parent), []))
    return [OccupationRow(row.number, **values) for row, values in pending if row.ok]


def is_meeting_room(space_type: str) -> bool:
    """Meeting rooms are shared, never rented ("Salle de réunion", "salle de reunion 2"…)."""
    return cells.normalise(space_type).startswith("salle de reunion")


def _check_spaces(
    row: _Row, place: str, references: tuple[str, ...], space_index: dict[str, dict[str, _Space]]
) -> None:
    in_place = space_index.get(_name_key(place), {})
    for reference in references:
        space = in_place.get(reference)
        if space is None:
            elsewhere = any(reference in spaces for spaces in space_index.values())
            problem = _("space of another place") if elsewhere else _("unknown space reference")
            row.fault("references", problem, reference)
        elif is_meeting_room(space.type):
            row.fault("references", _("meeting room, shared and not rented"), reference)


def _check_convention(row: _Row, entry: date, exit_: date | None, place: _Place) -> None:
    """An occupation cannot outlast the owner's agreement that allows it."""
    if place.start and entry < place.start:
        row.fault("entry", _("entry date before the start of the place's convention"))
    if place.end and entry > place.end:
        row.fault("entry", _("entry date after the end of the place's convention"))
    elif place.end and exit_ and exit_ > place.end:
        row.fault("exit", _("exit date after the end of the place's convention"))


def _check_overlaps(stays: list[_Stay], enclosing: list[_Stay] | None = None) -> None:
    """Two rows holding one space on a common day: fault the later row, naming the earlier.

    With `enclosing` (the stays of the space these sub-unit stays are part of), the pairs
    checked are those of a sub-unit and its space: holding an open space holds its desks.
    """
    stays = sorted(stays, key=lambda s: s.row.number)
    if enclosing is None:
        pairs = [(earlier, later) for i, later in enumerate(stays) for earlier in stays[:i]]
    else:
        pairs = [tuple(sorted((a, b), key=lambda s: s.row.number)) for a in stays for b in enclosing]
    for earlier, later in pairs:
        if not (later.entry <= earlier.last_day and earlier.entry <= later.last_day):
            continue
        if later.row is earlier.row:
            later.row.fault("references", _("sub-unit held together with the space it is part of"),
                            later.reference)
        elif later.occupant == earlier.occupant:
            later.row.fault("references",
                            _("space already occupied by the same occupant over the same dates (row %(row)s)"),
                            later.reference, row=earlier.row.number)
        else:
            later.row.fault("references",
                            _("space already occupied by another occupant over the same dates (row %(row)s)"),
                            later.reference, row=earlier.row.number)


_BILL_VAT_RATES = _FRENCH_VAT_RATES | {Decimal(0)}


def _bill_vat_rate(v: object) -> Decimal:
    rate = cells.decimal_fr(str(v).replace("%", "").strip() if isinstance(v, str) else v, noun="rate")
    if rate not in _BILL_VAT_RATES:
        raise CellError(_("VAT rate that does not exist in France"))
    return rate


def _read_bills(table: _Table | None, place_index: dict[str, _Place] | None) -> list[SupplierBillRow]:
    """Supplier bills: amounts in cents, the amount incl. VAT equal to the amount excl. VAT plus its VAT
    (rounded half-up to the cent), one bill number per supplier."""
    if not _usable(table):
        return []
    bills: list[SupplierBillRow] = []
    seen: dict[tuple[str, str], int] = {}
    for row in table.rows:
        day = row.get("date", cells.date_fr)
        place = _known_place(row, place_index)
        supplier = row.text("supplier")
        category = row.text("category")
        excl = row.amount("excl_vat", required=True, cents=True)
        rate = row.get("vat_rate", _bill_vat_rate)
        incl = row.amount("incl_vat", required=True, cents=True)
        number = row.get("number", cells.text)
        grant = row.text("grant", required=False)
        vat = None
        if excl is not None and rate is not None and incl is not None:
            vat = (excl * rate / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
            if excl + vat != incl:
                row.fault("incl_vat", _("amount incl. VAT that is not the amount excl. VAT plus its VAT "
                                        "(%(expected)s expected)"), expected=f"{excl + vat:.2f}".replace(".", ","))
        if supplier and number:
            key = (_name_key(supplier), number.casefold())
            if key in seen:
                row.fault("number", _("bill of this supplier listed twice (row %(row)s)"), row=seen[key])
            else:
                seen[key] = row.number
        if row.ok:
            bills.append(SupplierBillRow(row.number, day, place, supplier, category, excl, rate, vat, incl, number,
                                         grant))
    return bills
