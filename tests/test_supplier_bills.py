"""The workbook's Dépenses sheet imports as supplier bills: every faulty row reported with its sheet, row and
column, nothing imported while one remains; a workbook without the sheet imports all the same."""

from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.utils.translation import gettext
from test_import_workbook import _clear_demo

from cascade.imports.services import import_workbook
from cascade.ledger.models import SupplierBill
from cascade.places.models import Place
from conftest import WORKBOOK

D = Decimal


@pytest.fixture
def empty(site):
    _clear_demo(site["operator"])
    return site["operator"]


def _workbook(tmp_path, change) -> str:
    book = openpyxl.load_workbook(WORKBOOK)
    change(book)
    path = tmp_path / "classeur.xlsx"
    book.save(path)
    return str(path)


def test_the_demo_bills_are_imported_to_the_cent(empty):
    report = import_workbook(str(WORKBOOK), operator=empty)
    assert report.ok and report.counts["supplier_bills"] == 266
    bills = SupplierBill.objects.filter(organisation=empty)
    assert bills.count() == 266
    first = bills.get(number="FOU-202501-373")
    assert (first.date, first.place.name, first.supplier_name, first.category, first.amount_excl_vat,
            first.vat_rate, first.amount_vat, first.amount_incl_vat) == (
        date(2025, 1, 7), "Les Ateliers du Canal", "Fournisseur Énergie Verte", "Électricité", D("5320.00"), D("20"),
        D("1064.00"), D("6384.00"))
    water = bills.get(number="RÉG-202501-108")
    assert (water.amount_excl_vat, water.amount_vat, water.amount_incl_vat) == (D("420.00"), D("23.10"),
                                                                                D("443.10"))
    assert bills.filter(grant="Ville — politique de la ville").count() == 9
    assert all(b.amount_excl_vat + b.amount_vat == b.amount_incl_vat for b in bills)


def test_faulty_bills_are_each_reported_and_nothing_is_imported(empty, tmp_path):
    def spoil(book):
        sheet = book["Dépenses"]
        sheet["G4"] = "6 380,00"            # not 5 320,00 + 20 %
        sheet["B5"] = "Lieu Fantôme"
        sheet["F6"] = "19,6"
        sheet["C8"], sheet["H8"] = sheet["C7"].value, sheet["H7"].value
        sheet["C9"] = None

    report = import_workbook(_workbook(tmp_path, spoil), operator=empty)
    assert [f.as_dict() for f in report.faults] == [
        {"sheet": "Dépenses", "row": 4, "column": "Montant TTC", "value": "6 380,00",
         "problem": "amount incl. VAT that is not the amount excl. VAT plus its VAT (6384,00 expected)"},
        {"sheet": "Dépenses", "row": 5, "column": "Lieu", "value": "Lieu Fantôme", "problem": "unknown place"},
        {"sheet": "Dépenses", "row": 6, "column": "Taux TVA (%)", "value": "19,6",
         "problem": "VAT rate that does not exist in France"},
        {"sheet": "Dépenses", "row": 8, "column": "Réf. facture", "value": "VEI-202501-223",
         "problem": "bill of this supplier listed twice (row 7)"},
        {"sheet": "Dépenses", "row": 9, "column": "Fournisseur", "value": "", "problem": "required value missing"},
    ]
    assert report.faults[0].translated(gettext) == (
        "montant TTC qui n’est pas le montant HT plus sa TVA (6384,00 attendu)")
    assert not SupplierBill.objects.exists() and not Place.objects.exists()


def test_a_workbook_without_the_depenses_sheet_imports_without_bills(empty, tmp_path):
    report = import_workbook(_workbook(tmp_path, lambda book: book.remove(book["Dépenses"])), operator=empty)
    assert report.ok and report.counts["supplier_bills"] == 0
    assert Place.objects.count() == 2 and not SupplierBill.objects.exists()
