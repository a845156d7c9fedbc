"""Data built once per test session and written back cheaply in each test (issue #14 item 9).

`snapshot_take(build)` runs `build()` inside a transaction, reads every row it added to any table, and rolls the
transaction back: the database is left as it was. `snapshot_restore(snapshot)` writes those rows back exactly as
they were read — one executemany per table, in one transaction so that foreign keys are checked at its end — and
moves PostgreSQL's sequences past them. A test then sees the same rows (ids included) as if `build()` had run in
it, for a few statements instead of the services' hundreds of queries. Imported only by tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Snapshot:
    result: Any = None  # what build() returned
    tables: list = field(default_factory=list)  # (model, INSERT statement, rows)

    @property
    def models(self) -> list:
        return [model for model, _, _ in self.tables]

    def row_count(self) -> int:
        return sum(len(rows) for _, _, rows in self.tables)


def _models():
    from django.apps import apps

    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]


def snapshot_take(build: Callable[[], Any]) -> Snapshot:
    """The rows `build()` adds, and its result (which must not hold model instances a test would save)."""
    from django.db import connection, transaction

    quote = connection.ops.quote_name
    models = _models()
    snapshot = Snapshot()
    with transaction.atomic(), connection.cursor() as cursor:
        before = {m: set(m._base_manager.values_list("pk", flat=True)) for m in models}
        snapshot.result = build()
        for model in models:
            pk = model._meta.pk.column
            columns = [f.column for f in model._meta.concrete_fields]
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)} ORDER BY {quote(pk)}")
            rows = [row for row in cursor.fetchall() if row[columns.index(pk)] not in before[model]]
            if rows:
                insert = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "
                          f"VALUES ({', '.join(['%s'] * len(columns))})")
                snapshot.tables.append((model, insert, rows))
        transaction.set_rollback(True)
    return snapshot


def snapshot_restore(snapshot: Snapshot) -> None:
    from django.core.management.color import no_style
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for _, insert, rows in snapshot.tables:
            cursor.executemany(insert, rows)
        for sql in connection.ops.sequence_reset_sql(no_style(), snapshot.models):
            cursor.execute(sql)
