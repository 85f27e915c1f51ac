"""Several `cascade bill` processes at once on PostgreSQL: no duplicate number, no gap, no double
invoice. Each process is a real `cascade` command against the test database."""

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from test_billing_run import Site

from cascade.billing.models import Invoice

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row locks across processes are what this tests: PostgreSQL only")

SUBSCRIPTIONS, PROCESSES = 24, 4


@pytest.mark.django_db(transaction=True)
def test_billing_runs_in_parallel_issue_each_invoice_once_with_gapless_numbers():
    site = Site("Coop Parallèle", "coop-parallele")
    place = site.place("Halle Parallèle", vat=True)
    for n in range(SUBSCRIPTIONS):
        site.subscribe(place, f"Occupant {n:02d}", f"P{n:02d}", entry=date(2025, 1, 1), rent=f"{100 + n}.00")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "cascade", "bill", "--until", "2025-12-31", "--json"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(PROCESSES)]
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0] * PROCESSES, [err for _out, err in results]
    issued = [json.loads(out)["issued"] for out, _err in results]

    invoices = Invoice.objects.filter(organisation=site.operator)
    # Every monthly invoice of 2025, once, whichever process issued it.
    assert sum(issued) == invoices.count() == SUBSCRIPTIONS * 12
    assert invoices.values("subscription", "period_start").distinct().count() == SUBSCRIPTIONS * 12
    assert sorted(invoices.values_list("sequence", flat=True)) == list(range(1, SUBSCRIPTIONS * 12 + 1))
    assert sum(invoices.values_list("total_excl_vat", flat=True)) == 12 * sum(
        Decimal(100 + n) for n in range(SUBSCRIPTIONS))
    # Numbers follow dates within the series.
    by_number = list(invoices.order_by("sequence").values_list("issue_date", flat=True))
    assert by_number == sorted(by_number)
