"""Reading the operator's workbook: the demo workbook, its faulty twin, and edited copies."""

import io
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook import Workbook

from cascade.imports.workbook import (
    SHEETS,
    Fault,
    OperatorRow,
    PlaceRow,
    SpaceRow,
    WorkbookReading,
    read_workbook,
)

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "cascade" / "demo"
SHARED_DATA = REPO.parent / "shared" / "data"
CLEAN = DEMO / "operator-workbook.xlsx"
ERRORS = DEMO / "operator-workbook-errors.xlsx"
EXPECTED = DEMO / "operator-workbook-errors.expected.json"
HEADER_ROW = 3
ATELIERS = "Les Ateliers du Canal"
VOLTAIRE = "École Voltaire"


@cache
def _read(path: Path) -> WorkbookReading:
    return read_workbook(path)


def clean() -> WorkbookReading:
    return _read(CLEAN)


def _edited(edit: Callable[[Workbook], None]) -> WorkbookReading:
    """The demo workbook after `edit`, read back from memory."""
    book = openpyxl.load_workbook(CLEAN)
    edit(book)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return read_workbook(buffer)


def _column(book: Workbook, sheet: str, header: str) -> int:
    headers = [cell.value for cell in book[sheet][HEADER_ROW]]
    return headers.index(header) + 1


def _set(book: Workbook, sheet: str, row: int, header: str, value: object) -> None:
    # cell(row, column, value) leaves the cell alone when value is None: assign instead.
    book[sheet].cell(row, _column(book, sheet, header)).value = value


def _occupation(book: Workbook, row: int, values: dict[str, object]) -> None:
    """Write a whole Occupations row, monthly and in advance unless told otherwise."""
    defaults = {"Périodicité": "Mensuelle", "Terme": "À échoir", "Redevance HT / mois": 100}
    for header, value in {**defaults, **values}.items():
        _set(book, "Occupations", row, header, value)


# The demo workbook ------------------------------------------------------------------------


def test_demo_copies_are_the_shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip("no shared/ folder beside the repository")
    for name in (CLEAN.name, ERRORS.name, EXPECTED.name):
        assert (DEMO / name).read_bytes() == (SHARED_DATA / name).read_bytes(), name


def test_clean_workbook_has_no_fault():
    assert clean().faults == []
    assert clean().ok


def test_clean_workbook_counts():
    reading = clean()
    assert len(reading.places) == 2
    assert len(reading.spaces) == 127
    assert len(reading.prices) == 8
    assert len(reading.occupants) == 96
    assert len(reading.occupations) == 172
    assert sum(1 for o in reading.occupations if o.exit is None) == 92


def test_blank_and_total_rows_are_skipped_and_row_numbers_are_the_sheets():
    reading = clean()
    rows = [o.row for o in reading.occupations]
    assert rows[0] == 4 and rows[-1] == 179
    assert not {41, 79, 117, 155, 180, 181} & set(rows)
    assert not {41, 79, 117} & {s.row for s in reading.spaces}
    assert [o.row for o in reading.occupants][:2] == [4, 5]


def test_operator():
    assert clean().operator == OperatorRow(
        name="Collectif Tremplin",
        legal_form="SCIC SAS",
        siret="43920640053409",
        vat_number="FR21439206400",
        iban="FR7630003315211692071991947",
        ics="FR60ZZZ406524",
        address="3 impasse des Lilas, 93100 Montreuil",
    )


def test_places():
    ateliers, voltaire = clean().places
    assert ateliers == PlaceRow(
        row=4,
        name=ATELIERS,
        address="48 quai de l'Écluse, 93300 Aubervilliers",
        owner="Foncière publique Est Parisien",
        convention_start=date(2025, 1, 6),  # '06/01/2025': day first
        convention_end=date(2027, 6, 30),
        vat_option=True,
        vat_rate=Decimal(20),
        co_managers=[("Collectif Tremplin", Decimal(100))],
    )
    assert voltaire.name == VOLTAIRE
    assert voltaire.vat_option is False
    assert voltaire.vat_rate is None
    assert (voltaire.convention_start, voltaire.convention_end) == (
        date(2025, 9, 1),
        date(2026, 12, 31),
    )
    assert voltaire.co_managers == [
        ("Collectif Tremplin", Decimal(60)),
        ("Association Entraide Voltaire", Decimal(40)),
    ]


def _spaces() -> dict[tuple[str, str], SpaceRow]:
    return {(s.place, s.reference): s for s in clean().spaces}


def test_spaces():
    spaces = _spaces()
    assert spaces[(ATELIERS, "A-004")].surface == Decimal(146)  # '146 m²'
    assert spaces[(ATELIERS, "A-002")].surface == Decimal("40.00")  # '40,00'
    assert spaces[(ATELIERS, "A-111")].row == 26  # ' A-111 '
    assert spaces[(ATELIERS, "B-CAS-02")].row == 80
    assert spaces[(ATELIERS, "A-001")] == SpaceRow(
        row=4,
        place=ATELIERS,
        building="Bâtiment A",
        floor="0",
        reference="A-001",
        type="Bureau",
        surface=Decimal(27),
        capacity=3,
        accessible=True,
        parent=None,
    )
    desk = spaces[(ATELIERS, "A-OS1-P07")]
    assert (desk.row, desk.type, desk.surface, desk.capacity, desk.parent) == (
        68,
        "Poste",
        None,
        1,
        "A-OS1",
    )
    assert spaces[(VOLTAIRE, "S08")].floor == "1"
    assert spaces[(VOLTAIRE, "LOGE")].type == "Logement"
    assert sum(1 for s in spaces.values() if s.parent == "A-OS1") == 16


@pytest.mark.parametrize(
    ("reference", "accessible"),
    [("A-001", True), ("A-002", True), ("A-003", True), ("A-101", False), ("A-102", False)],
)
def test_space_accessibility_from_oui_x_non_and_blank(reference, accessible):
    assert _spaces()[(ATELIERS, reference)].accessible is accessible


def test_prices():
    prices = {p.category: p for p in clean().prices}
    assert list(prices) == [
        "Association",
        "Artiste",
        "ESS",
        "Entreprise",
        "Résident",
        "Forfait Poste",
        "Forfait Casier",
        "Forfait Parking",
    ]
    association = prices["Association"]
    assert (association.rent, association.flat, association.deposit_months) == (6, False, 1)
    assert association.fluids_per_m2 == Decimal("1.50")  # '1,50 €'
    assert (prices["ESS"].rent, prices["ESS"].fluids_per_m2) == (Decimal("8.00"), Decimal("1.5"))
    assert prices["Forfait Poste"].flat is True
    assert prices["Forfait Poste"].rent == Decimal(150)
    assert [p.category for p in prices.values() if p.flat] == [
        "Forfait Poste",
        "Forfait Casier",
        "Forfait Parking",
    ]


def test_occupants():
    occupants = {o.name: o for o in clean().occupants}
    assert "La Clé Vagabond" in occupants  # written 'La Clé Vagabond ' in the sheet
    karim = occupants["Karim Traoré"]
    assert (karim.row, karim.category, karim.siret, karim.is_member) == (4, "Artiste", None, False)
    assert karim.iban == "FR7620041445099004349082629"
    assert karim.email == "contact@karimtraore.example.org"
    assert occupants["Noé Mercier"].is_member is True
    assert occupants["Les Pousses Commune"].siret == "67981318885416"
    assert occupants["La Boussole Partagée"].iban is None
    assert occupants["Hébergement Camelot — M. & Mme Durand"].category == "Résident"


def _occupations():
    return {o.row: o for o in clean().occupations}


def test_occupations():
    rows = _occupations()
    assert rows[22].references == ("A-101", "A-102")
    assert rows[46].references == ("A-205", "A-206")  # 'a-205, A-206'
    assert rows[5].references == ("A-001",)  # 'a-001'
    assert rows[4].occupant == "La Clé Vagabond"
    assert rows[71].deposit == Decimal("1264.00")  # '1\u202f264,00'
    assert rows[71].rent == Decimal("1264.00")
    assert rows[7].exit == date(2026, 7, 7)  # '07/07/2026'
    assert rows[9].exit == date(2025, 5, 5)  # '2025-05-05'
    assert rows[9].fluids == Decimal("219.00")  # '219,00 €'
    assert rows[6].exit is None
    assert (rows[13].frequency, rows[13].term) == ("quarterly", "advance")
    assert (rows[36].frequency, rows[36].term) == ("monthly", "arrears")
    loge = rows[179]
    assert (loge.place, loge.references, loge.rent) == (VOLTAIRE, ("LOGE",), Decimal("180.00"))
    assert (loge.fluids, loge.deposit) == (None, None)
    assert loge.remarks == "Convention résident temporaire — plafond 200 € CC"


def test_occupations_name_occupants_of_the_occupants_sheet():
    names = {o.name for o in clean().occupants}
    assert {o.occupant for o in clean().occupations} <= names


def test_reads_from_a_path_a_string_and_an_open_file():
    assert len(read_workbook(str(CLEAN)).occupations) == 172
    with CLEAN.open("rb") as f:
        assert len(read_workbook(f).occupations) == 172


def test_a_file_that_is_not_a_workbook():
    reading = read_workbook(io.BytesIO(b"Nom;Adresse\n"))
    assert reading.faults == [Fault("", 0, "", "", "file that is not an Excel workbook (.xlsx)")]
    assert reading.operator is None and reading.occupations == []


# The workbook with faults ---------------------------------------------------------------------


def _key(fault: dict) -> tuple:
    return (fault["sheet"], fault["row"], fault["column"], fault["value"], fault["problem"])


def test_errors_workbook_gives_exactly_the_expected_faults():
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    faults = [f.as_dict() for f in _read(ERRORS).faults]
    assert sorted(faults, key=_key) == sorted(expected, key=_key)
    assert all(set(f) == {"sheet", "row", "column", "value", "problem"} for f in faults)


def test_faults_come_by_sheet_then_row():
    faults = _read(ERRORS).faults
    order = [(SHEETS.index(f.sheet), f.row) for f in faults]
    assert order == sorted(order)
    assert faults[-1] == Fault(
        "Occupations",
        52,
        "Occupant",
        "Association Inconnue au Bataillon",
        "occupant missing from the Occupants sheet",
    )


def test_rows_with_a_fault_are_left_out():
    reading = _read(ERRORS)
    assert not reading.ok
    assert len(reading.spaces) == 126
    assert len(reading.occupants) == 92
    assert len(reading.occupations) == 167
    assert not {5, 7, 12, 17, 47, 52} & {o.row for o in reading.occupations}


# Edited copies of the demo workbook ---------------------------------------------------------


def test_columns_are_found_by_header_text_not_position():
    def reverse_columns_and_retype_a_header(book: Workbook) -> None:
        for name in ("Occupations", "Espaces"):
            sheet = book[name]
            for merged in list(sheet.merged_cells.ranges):
                sheet.unmerge_cells(str(merged))
            lines = [[(c.value, c.number_format) for c in line] for line in sheet.iter_rows()]
            for number, line in enumerate(lines, start=1):
                for index, (value, number_format) in enumerate(reversed(line), start=1):
                    cell = sheet.cell(number, index)
                    cell.value, cell.number_format = value, number_format
        _set(book, "Occupations", HEADER_ROW, "Date d'entrée", "  DATE D’ENTREE ")

    reading = _edited(reverse_columns_and_retype_a_header)
    assert reading.faults == []
    assert reading.occupations == clean().occupations
    assert reading.spaces == clean().spaces


def test_rows_keep_the_spreadsheet_numbers_when_the_header_moves_down():
    reading = _edited(lambda book: book["Occupants"].insert_rows(1, amount=2))
    assert reading.faults == []
    assert reading.occupants[0].row == 6
    assert reading.occupants[0].name == "Karim Traoré"


def test_missing_column_is_one_fault_on_the_header_row():
    def drop_term(book: Workbook) -> None:
        book["Occupations"].delete_cols(_column(book, "Occupations", "Terme"))

    reading = _edited(drop_term)
    assert reading.faults == [Fault("Occupations", 3, "Terme", "", "required column missing")]
    assert reading.occupations == []


def test_missing_sheet():
    reading = _edited(lambda book: book.remove(book["Grille tarifaire"]))
    assert reading.faults == [Fault("Grille tarifaire", 0, "", "", "required sheet missing")]
    assert len(reading.occupants) == 96


def test_header_row_not_found():
    def blank_header(book: Workbook) -> None:
        for cell in book["Lieux"][HEADER_ROW]:
            cell.value = None

    assert _edited(blank_header).faults == [Fault("Lieux", 0, "", "", "header row not found")]


def test_other_sheets_are_ignored():
    reading = _edited(lambda book: book.remove(book["Caisses"]))
    assert reading.faults == []


def _faults(edit: Callable[[Workbook], None]) -> set[Fault]:
    return set(_edited(edit).faults)


def test_structure_faults():
    def edit(book: Workbook) -> None:
        _set(book, "Structure", 4, "N° TVA", "FR26679813188")  # a valid number, another SIREN
        _set(book, "Structure", 4, "ICS (SEPA)", "FR61ZZZ406524")
        _set(book, "Structure", 4, "Forme", None)

    assert _faults(edit) == {
        Fault(
            "Structure", 4, "N° TVA", "FR26679813188", "VAT number that does not match the SIRET"
        ),
        Fault("Structure", 4, "ICS (SEPA)", "FR61ZZZ406524", "ICS with a wrong check digit"),
        Fault("Structure", 4, "Forme", "", "required value missing"),
    }


def test_vat_number_is_required_when_a_place_opts_for_vat():
    def edit(book: Workbook) -> None:
        _set(book, "Structure", 4, "N° TVA", None)

    assert _faults(edit) == {Fault("Structure", 4, "N° TVA", "", "required value missing")}


def test_places_faults():
    def edit(book: Workbook) -> None:
        _set(book, "Lieux", 4, "Régime TVA", "TVA sur marge")
        _set(book, "Lieux", 5, "Fin convention", "31/08/2025")
        _set(book, "Lieux", 5, "Co-gestionnaires", "Collectif Tremplin (60 %) ; Entraide (30 %)")

    assert _faults(edit) == {
        Fault("Lieux", 4, "Régime TVA", "TVA sur marge", "unknown VAT regime"),
        Fault("Lieux", 5, "Fin convention", "31/08/2025", "convention end before convention start"),
        Fault(
            "Lieux",
            5,
            "Co-gestionnaires",
            "Collectif Tremplin (60 %) ; Entraide (30 %)",
            "shares that do not add up to 100 %",
        ),
    }


def test_spaces_faults():
    def edit(book: Workbook) -> None:
        _set(book, "Espaces", 116, "Lieu", "Les Ateliers du Canall")  # A-SR1, never occupied
        _set(book, "Espaces", 62, "Fait partie de", "A-OS2")
        _set(book, "Espaces", 132, "Réf. local", "s01")  # PREAU, never occupied
        _set(book, "Espaces", 5, "Capacité", "beaucoup")
        _set(book, "Espaces", 6, "Accessible PMR", "bof")

    assert _faults(edit) == {
        Fault("Espaces", 5, "Capacité", "beaucoup", "capacity that is not a number"),
        Fault("Espaces", 6, "Accessible PMR", "bof", "value that is neither yes nor no"),
        Fault("Espaces", 62, "Fait partie de", "A-OS2", "unknown parent space"),
        Fault("Espaces", 116, "Lieu", "Les Ateliers du Canall", "unknown place"),
        Fault(
            "Espaces",
            132,
            "Réf. local",
            "s01",
            "space reference listed twice in this place (row 118)",
        ),
    }


def test_occupants_faults():
    def edit(book: Workbook) -> None:
        # Row 5 is 'Noé Mercier'; row 6 holds SIRET 67981318885416.
        _set(book, "Occupants", 102, "Nom / raison sociale", " noé  MERCIER ")
        _set(book, "Occupants", 102, "Catégorie tarifaire", "artiste")
        _set(book, "Occupants", 102, "SIRET", "679 813 188 85416")
        _set(book, "Occupants", 102, "Adresse de facturation", "1 rue Voltaire, 93100 Montreuil")
        _set(book, "Occupants", 4, "Sociétaire", "peut-être")
        _set(book, "Occupants", 5, "Adresse de facturation", "  ")

    assert _faults(edit) == {
        Fault("Occupants", 4, "Sociétaire", "peut-être", "value that is neither yes nor no"),
        Fault("Occupants", 5, "Adresse de facturation", "  ", "required value missing"),
        Fault(
            "Occupants",
            102,
            "Nom / raison sociale",
            " noé  MERCIER ",
            "occupant listed twice (row 5)",
        ),
        Fault(
            "Occupants",
            102,
            "SIRET",
            "679 813 188 85416",
            "SIRET already used by another occupant (row 6)",
        ),
    }


def test_occupations_faults():
    def edit(book: Workbook) -> None:
        _set(book, "Occupations", 8, "Périodicité", "Annuelle")
        _set(book, "Occupations", 8, "Terme", "Fin de mois")
        _set(book, "Occupations", 10, "Local(aux)", "A-004 ; s01")
        _set(book, "Occupations", 12, "Local(aux)", "A-005, A-SR1")
        _set(book, "Occupations", 15, "Redevance HT / mois", None)
        _set(book, "Occupations", 16, "Dépôt de garantie", "-464")
        _set(book, "Occupations", 18, "Redevance HT / mois", "194,405")
        _set(book, "Occupations", 6, "Date de sortie", "2027-07-01")
        _set(book, "Occupations", 60, "Date d'entrée", "05/01/2025")
        _set(book, "Occupations", 72, "Lieu", "Ecole Voltaire")

    assert _faults(edit) == {
        Fault(
            "Occupations",
            6,
            "Date de sortie",
            "2027-07-01",
            "exit date after the end of the place's convention",
        ),
        Fault(
            "Occupations",
            8,
            "Périodicité",
            "Annuelle",
            "unknown frequency (Mensuelle or Trimestrielle)",
        ),
        Fault(
            "Occupations",
            8,
            "Terme",
            "Fin de mois",
            "unknown billing term (À échoir or À terme échu)",
        ),
        Fault("Occupations", 10, "Local(aux)", "S01", "space of another place"),
        Fault("Occupations", 12, "Local(aux)", "A-SR1", "meeting room, shared and not rented"),
        Fault("Occupations", 15, "Redevance HT / mois", "", "required value missing"),
        Fault("Occupations", 16, "Dépôt de garantie", "-464", "negative amount"),
        Fault(
            "Occupations",
            18,
            "Redevance HT / mois",
            "194,405",
            "amount with more than two decimals",
        ),
        Fault(
            "Occupations",
            60,
            "Date d'entrée",
            "05/01/2025",
            "entry date before the start of the place's convention",
        ),
        Fault("Occupations", 72, "Lieu", "Ecole Voltaire", "unknown place"),
    }


def test_overlaps_count_inclusive_days_and_open_ends_run_to_the_convention_end():
    def edit(book: Workbook) -> None:
        book["Occupations"].insert_rows(180, amount=3)
        # Row 6: La Ruche du Canal holds A-002 from 22/02/2025, no exit date.
        _occupation(
            book,
            180,
            {
                "Occupant": "la ruche du canal",
                "Lieu": ATELIERS,
                "Local(aux)": "A-002",
                "Date d'entrée": datetime(2026, 1, 1),
            },
        )
        # Row 163: Élise Morel holds S01 from 26/12/2025, open: until 31/12/2026 at the latest.
        _occupation(
            book,
            181,
            {
                "Occupant": "Le Fil Rouge",
                "Lieu": VOLTAIRE,
                "Local(aux)": "S01",
                "Date d'entrée": "31/12/2026",
                "Date de sortie": "31/12/2026",
            },
        )
        # row 4 ends on 16/04/2026 and row 5 starts on 03/05/2026, so 17/04-02/05 is free.
        _occupation(
            book,
            182,
            {
                "Occupant": "Le Fil Rouge",
                "Lieu": ATELIERS,
                "Local(aux)": "A-001",
                "Date d'entrée": "17/04/2026",
                "Date de sortie": "02/05/2026",
            },
        )

    reading = _edited(edit)
    assert set(reading.faults) == {
        Fault(
            "Occupations",
            180,
            "Local(aux)",
            "A-002",
            "space already occupied by the same occupant over the same dates (row 6)",
        ),
        Fault(
            "Occupations",
            181,
            "Local(aux)",
            "S01",
            "space already occupied by another occupant over the same dates (row 163)",
        ),
    }
    assert 182 in {o.row for o in reading.occupations}
