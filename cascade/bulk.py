"""Writing many new rows at once: one INSERT statement, prepared once, executed for every row.

A monthly run of 10 000 subscriptions writes about 60 000 rows (documents, lines, sends, audit).
Django's `bulk_create` compiles a placeholder and adapts a value through the field for each field
of each row, which was most of the run's time (docs/benchmarks.md). `insert` builds the statement
once from the model's fields and adapts only the values whose type the database driver does not
take as it is (dates, times, decimals, JSON); `executemany` does the rest.

Like `bulk_create`: no `save()`, no signals, and the rows get no primary key back.
"""

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

CHUNK = 2000


def _adapter(field: models.Field, connection) -> Callable[[Any], Any] | None:
    """How a value of `field` is given to the driver; None when as it is."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    if isinstance(field, (models.IntegerField, models.ForeignKey, models.BooleanField)):
        return None
    if isinstance(field, (models.CharField, models.TextField)):
        return lambda value: value if value is None or type(value) is str else str(value)  # a TextChoices member
    return lambda value: field.get_db_prep_save(value, connection)


def _value_of(field: models.Field) -> Callable[[models.Model], Any]:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        now = timezone.now()
        return lambda obj: getattr(obj, field.attname) or now
    return lambda obj: getattr(obj, field.attname)


def insert(objects: Sequence[models.Model] | Iterable[models.Model], model: type[models.Model] | None = None) -> int:
    """Insert new model instances (all of one model) in a few statements; the number of rows written.

    With `model`, the objects may be any with an attribute per concrete field (`entry_id`, not `entry`), such as
    `types.SimpleNamespace`: 50 000 rows are then written without building 50 000 model instances."""
    objects = list(objects)
    if not objects:
        return 0
    model = model or type(objects[0])
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    values = [_value_of(f) for f in fields]
    adapters = [_adapter(f, connection) for f in fields]
    steps = list(zip(values, adapters, strict=True))
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    rows = ([value(obj) if adapt is None else adapt(value(obj)) for value, adapt in steps] for obj in objects)
    with connection.cursor() as cursor:
        while chunk := list(islice(rows, CHUNK)):
            cursor.executemany(sql, chunk)
    return len(objects)
