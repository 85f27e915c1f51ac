"""What a hand-kept workbook can hold that the database cannot: too long, too large, too
precise, nested too deep, held twice through a sub-unit, damaged. Each is a fault with its
sheet, row and column, never a crash at import or later at billing time."""

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from cascade.accounts.models import Organisation
from cascade.imports import workbook
from cascade.imports.workbook import Fault, read_workbook
from cascade.ledger.models import SupplierBill
from cascade.places.models import Place, Resource, ResourceType
from cascade.subscriptions.models import SubscriptionComponent
from test_workbook_reader import CLEAN, _edited, _faults, _occupation, _set


def test_text_longer_than_the_database_keeps():
    phone = "06 61 99 22 37 / 06 61 99 22 38 (bureau) / 01 23 45 67 89"  # 57 characters

    def edit(book):
        _set(book, "Occupants", 4, "Téléphone", phone)
        _set(book, "Espaces", 5, "Réf. local", "A-" + "0" * 60)  # A-002, held by row 6 of Occupations

    assert {(f.sheet, f.row, f.column, f.problem) for f in _faults(edit)} == {
        ("Occupants", 4, "Téléphone", "text longer than 40 characters"),
        ("Espaces", 5, "Réf. local", "text longer than 50 characters"),
        # The occupation of A-002 now names a space the sheet no longer has.
        ("Occupations", 6, "Local(aux)", "unknown space reference"),
    }


def test_amounts_surfaces_and_capacities_too_large():
    def edit(book):
        _set(book, "Occupations", 4, "Redevance HT / mois", "10 000 000 000,00")
        _set(book, "Occupations", 6, "Dépôt de garantie", 1e15)
        _set(book, "Espaces", 4, "Surface (m²)", "123 456 789 m²")
        _set(book, "Espaces", 6, "Capacité", 3_000_000_000)
        _set(book, "Grille tarifaire", 4, "Redevance €/m²/mois HT", "99 999 999 999")

    assert {(f.sheet, f.row, f.column, f.problem) for f in _faults(edit)} == {
        ("Occupations", 4, "Redevance HT / mois", "amount too large"),
        ("Occupations", 6, "Dépôt de garantie", "amount too large"),
        ("Espaces", 4, "Surface (m²)", "surface too large"),
        ("Espaces", 6, "Capacité", "capacity too large"),
        ("Grille tarifaire", 4, "Redevance €/m²/mois HT", "amount too large"),
    }


def test_the_largest_amount_kept_is_accepted():
    reading = _edited(lambda book: _set(book, "Occupations", 4, "Redevance HT / mois", "9 999 999 999,99"))
    assert reading.ok, reading.faults
    assert reading.occupations[0].rent == Decimal("9999999999.99")


def test_surfaces_and_grid_prices_with_more_than_two_decimals():
    def edit(book):
        _set(book, "Espaces", 4, "Surface (m²)", "27,125")
        _set(book, "Grille tarifaire", 4, "Redevance €/m²/mois HT", "12,125")

    assert {(f.sheet, f.row, f.column, f.problem) for f in _faults(edit)} == {
        ("Espaces", 4, "Surface (m²)", "surface with more than two decimals"),
        ("Grille tarifaire", 4, "Redevance €/m²/mois HT", "amount with more than two decimals"),
    }


@pytest.mark.parametrize(("row", "parent"), [
    (61, "A-OS1-P01"),   # the open space part of its own desk: a cycle
    (63, "A-OS1-P05"),   # a desk part of a desk listed later
    (66, "A-OS1-P02"),   # a desk part of a desk listed earlier
])
def test_a_sub_unit_is_part_of_a_space_that_is_not_itself_a_sub_unit(row, parent):
    faults = _faults(lambda book: _set(book, "Espaces", row, "Fait partie de", parent))

    assert Fault("Espaces", row, "Fait partie de", parent, "parent space that is itself part of another space") \
        in faults


def test_an_open_space_and_one_of_its_desks_cannot_be_held_by_two_occupants_at_once():
    def edit(book):
        # A-OS1-P02 is held by Le Nid du Coin from 21/03/2025 to 01/08/2025 (row 85).
        _occupation(book, 180, {"Occupant": "Karim Traoré", "Lieu": "Les Ateliers du Canal",
                                "Local(aux)": "A-OS1", "Date d'entrée": "01/06/2025",
                                "Date de sortie": "30/06/2025"})

    faults = _faults(edit)
    # One fault per desk held in June 2025, each naming its row; all on the new row.
    assert Fault("Occupations", 180, "Local(aux)", "A-OS1",
                 "space already occupied by another occupant over the same dates (row 85)") in faults
    assert {(f.row, f.column, f.value, f.template) for f in faults} == {
        (180, "Local(aux)", "A-OS1", "space already occupied by another occupant over the same dates (row %(row)s)")}
    assert len(faults) > 1


def test_an_open_space_and_its_desk_in_one_row():
    def edit(book):
        _occupation(book, 180, {"Occupant": "Karim Traoré", "Lieu": "Les Ateliers du Canal",
                                "Local(aux)": "A-OS1, A-OS1-P16", "Date d'entrée": "01/01/2027",
                                "Date de sortie": "31/01/2027"})

    faults = _faults(edit)
    assert Fault("Occupations", 180, "Local(aux)", "A-OS1", "sub-unit held together with the space it is part of") \
        in faults


@pytest.mark.parametrize("label", ["Totaux", "TOTAL HT", "Total (HT)", "Total général :", "Sous-total"])
def test_total_rows_however_written_are_not_data(label):
    reading = _edited(lambda book: _set(book, "Occupations", 181, "Occupant", label))
    assert reading.ok, reading.faults
    assert len(reading.occupations) == len(read_workbook(CLEAN).occupations)


def test_notes_under_the_total_are_not_data():
    def edit(book):
        _set(book, "Occupations", 183, "Occupant", "NB : montants validés en CA du 12/11")

    reading = _edited(edit)
    assert reading.ok, reading.faults


def test_an_occupant_named_like_a_total_is_data():
    reading = _edited(lambda book: _set(book, "Occupants", 4, "Nom / raison sociale", "Total Solidarité"))
    assert Fault("Occupations", 4, "Occupant", "La Clé Vagabond", "occupant missing from the Occupants sheet") \
        not in reading.faults
    assert "Total Solidarité" in {o.name for o in reading.occupants}


def test_a_damaged_workbook_is_one_fault():
    damaged = io.BytesIO()
    with zipfile.ZipFile(CLEAN) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]  # a sheet cut in the middle of its XML
            target.writestr(item, data)
    damaged.seek(0)

    assert read_workbook(damaged).faults == [
        Fault("", 0, "", "", "damaged Excel workbook: open it and save it again")]


def test_sheets_cascade_ignores_are_not_read():
    book = openpyxl.load_workbook(CLEAN)
    sheet = book["Subventions"] if "Subventions" in book.sheetnames else book.create_sheet("Subventions")
    sheet["A1"] = "not a date"
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    assert read_workbook(buffer).ok


def test_the_limits_are_the_databases():
    """The reader (no Django) repeats the sizes of the model fields: they must agree."""
    def digits(model, name):
        f = model._meta.get_field(name)
        return Decimal(10) ** (f.max_digits - f.decimal_places) - Decimal(1).scaleb(-f.decimal_places)

    assert workbook.MAX_AMOUNT == digits(SubscriptionComponent, "monthly_amount") == digits(
        ResourceType, "reference_price")
    assert workbook.MAX_SURFACE == digits(Resource, "surface")
    assert workbook.MAX_CAPACITY == 2**31 - 1
    fields = {
        ("Structure", "name"): (Organisation, "name"), ("Structure", "legal_form"): (Organisation, "legal_form"),
        ("Lieux", "name"): (Place, "name"), ("Lieux", "owner"): (Place, "owner_name"),
        ("Espaces", "building"): (Resource, "building"), ("Espaces", "floor"): (Resource, "floor"),
        ("Espaces", "reference"): (Resource, "reference"), ("Espaces", "type"): (ResourceType, "name"),
        ("Grille tarifaire", "category"): (Organisation, "price_category"),
        ("Occupants", "name"): (Organisation, "name"), ("Occupants", "legal_form"): (Organisation, "legal_form"),
        ("Occupants", "contact"): (Organisation, "contact_name"), ("Occupants", "email"): (Organisation, "email"),
        ("Occupants", "phone"): (Organisation, "phone"),
        ("Dépenses", "supplier"): (SupplierBill, "supplier_name"), ("Dépenses", "category"): (SupplierBill, "category"),
        ("Dépenses", "number"): (SupplierBill, "number"), ("Dépenses", "grant"): (SupplierBill, "grant"),
    }
    limited = {(sheet, c.key): c.max_length for sheet, columns in workbook._COLUMNS.items()
               for c in columns if c.max_length}
    assert limited == {key: model._meta.get_field(name).max_length for key, (model, name) in fields.items()}
