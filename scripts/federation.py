"""A federation of 10 000 subscriptions for `make bench`: the monthly billing run at scale.

10 operators, each with one place of 1 000 offices, each office held by its own occupant from
1 December 2026; a third of the subscriptions have a signed amendment raising the fee from
15 January 2027. December is billed first (not measured); the measured run is January: 10 000
documents, a third of them with two stretches. Then Factur-X PDFs are drawn for a sample.
Figures: wall time, peak memory (the process' resident set, high-water mark), documents per second.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal

OPERATORS, PER_OPERATOR = 10, 1_000
ENTRY, AMENDED, DECEMBER, JANUARY = date(2026, 12, 1), date(2027, 1, 15), date(2026, 12, 31), date(2027, 1, 31)


def build() -> int:
    """The federation, written with bulk inserts (setting up, not what is measured)."""
    from cascade.accounts.models import Organisation, OrganisationKind
    from cascade.places.models import Place, Resource, ResourceType, VatRegime
    from cascade.subscriptions.models import (
        Subscription,
        SubscriptionComponent,
        SubscriptionStatus,
        SubscriptionVersion,
        VersionStatus,
    )

    operators = Organisation.objects.bulk_create(
        Organisation(name=f"Opérateur {n:02d}", slug=f"federation-{n:02d}", kind=OrganisationKind.OPERATOR,
                     address=f"{n} rue de la Fédération\n93100 Montreuil", siret="43920640053409",
                     vat_number="FR21439206400")
        for n in range(OPERATORS))
    places = Place.objects.bulk_create(
        Place(organisation=op, name=f"Lieu {i:02d}", address=f"{i} quai du Canal\n93300 Aubervilliers",
              convention_start=date(2026, 1, 1), convention_end=date(2028, 12, 31), vat_regime=VatRegime.VAT,
              vat_rate=Decimal("20")) for i, op in enumerate(operators))
    kinds = ResourceType.objects.bulk_create(
        ResourceType(organisation=op, name="Bureau", reference_price=Decimal("10")) for op in operators)
    occupants = Organisation.objects.bulk_create(
        Organisation(name=f"Occupant {i:02d}-{n:04d}", slug=f"federation-occ-{i:02d}-{n:04d}",
                     kind=OrganisationKind.OCCUPANT, operator=op, siret="67981318885416",
                     email=f"occ{i:02d}{n:04d}@federation.example.org")
        for i, op in enumerate(operators) for n in range(PER_OPERATOR))
    resources = Resource.objects.bulk_create(
        Resource(organisation=operators[i // PER_OPERATOR], place=places[i // PER_OPERATOR],
                 type=kinds[i // PER_OPERATOR], reference=f"B-{i % PER_OPERATOR:04d}", surface=Decimal("20"))
        for i in range(OPERATORS * PER_OPERATOR))
    subscriptions = Subscription.objects.bulk_create(
        Subscription(organisation=operators[i // PER_OPERATOR], subscriber=occupants[i],
                     place=places[i // PER_OPERATOR], reference=f"OCC-{i % PER_OPERATOR + 1:04d}",
                     status=SubscriptionStatus.ACTIVE)
        for i in range(OPERATORS * PER_OPERATOR))
    versions = []
    for i, subscription in enumerate(subscriptions):
        versions.append(SubscriptionVersion(subscription=subscription, number=1, status=VersionStatus.IN_FORCE,
                                            effective_from=ENTRY, entry_date=ENTRY, frequency="monthly",
                                            term="advance"))
        if i % 3 == 0:
            versions.append(SubscriptionVersion(subscription=subscription, number=2, status=VersionStatus.IN_FORCE,
                                                effective_from=AMENDED, entry_date=ENTRY, frequency="monthly",
                                                term="advance"))
    versions = SubscriptionVersion.objects.bulk_create(versions)
    SubscriptionComponent.objects.bulk_create(
        component for v in versions for component in (
            SubscriptionComponent(version=v, kind="rent", monthly_amount=Decimal("300.00") + v.number * 30
                                  + (v.subscription_id % 7)),
            SubscriptionComponent(version=v, kind="fluids", monthly_amount=Decimal("40.00"))))
    by_subscription = {s.pk: r for s, r in zip(subscriptions, resources, strict=True)}
    SubscriptionVersion.resources.through.objects.bulk_create(
        SubscriptionVersion.resources.through(subscriptionversion_id=v.pk, resource_id=by_subscription[
            v.subscription_id].pk) for v in versions)
    return len(subscriptions)


def run(engine: str) -> None:
    from cascade.billing.actions import bill_until
    from cascade.billing.documents import invoice_data
    from cascade.billing.facturx import cii_xml, embed
    from cascade.billing.models import Invoice
    from cascade.billing.pdf import render_invoice_pdf
    from cascade.ledger.posting import post_pending

    start = time.perf_counter()
    count = build()
    print(f"{'federation: ' + str(count) + ' subscriptions built':<58} {time.perf_counter() - start:9.1f} s")
    start = time.perf_counter()
    december = bill_until(DECEMBER)
    post_pending()  # December's entries: the measured run posts January's only, as the monthly `cascade bill` does
    print(f"{'December billed (setting up)':<58} {time.perf_counter() - start:9.1f} s   "
          f"({len(december.issued)} documents)")
    # The run itself as cron starts it: `cascade bill` in a process of its own, whose memory is its own
    # (wait4 gives that child's own high-water mark, not the largest of every child so far).
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen([sys.executable, "-m", "cascade", "bill", "--until", JANUARY.isoformat(), "--json"],
                                 stdout=subprocess.PIPE, stderr=errors, text=True)
        output = child.stdout.read()
        _pid, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            errors.seek(0)
            raise SystemExit(f"cascade bill failed: {errors.read().decode()[-2000:]}")
    peak = usage.ru_maxrss  # KiB
    result = json.loads(output)
    issued = result["issued"]
    print(f"{'monthly run, January: cascade bill (documents without PDF)':<58} {elapsed:9.2f} s   ({issued} documents, "
          f"{issued / elapsed:,.0f} documents/s, peak RSS {peak / 1024:,.0f} MB)")
    sample = list(Invoice.objects.filter(issue_date__gte=date(2027, 1, 1)).order_by("pk")[:100])
    start = time.perf_counter()
    for invoice in sample:
        data = invoice_data(invoice)
        embed(render_invoice_pdf(data), cii_xml(data), kind=data["kind"])
    elapsed = time.perf_counter() - start
    print(f"{'Factur-X PDF (render + XML + embed), one core':<58} {elapsed / len(sample) * 1000:9.1f} ms   "
          f"({len(sample) / elapsed:,.1f} PDFs/s on {engine})")
