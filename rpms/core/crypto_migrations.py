"""Migrating columns to encryption at rest (rpms.core.crypto), for the apps' data migrations and for
`manage.py rotate_data_key`.

`EncryptColumns(model, columns={"id_number": "id_number"}, indexes={"id_number_index": "id_number"})` is a
RunPython operation: it reads the table with plain SQL in primary-key batches (no model field decrypts or
encrypts behind its back), encrypts every value not yet encrypted under the current key and fills each blind
index from its plain source value (`columns` maps a column to the blind-index kind of its values, None for a
column without index). It is idempotent (encrypted values are left alone), works on SQLite and PostgreSQL, and
reverses by decrypting.
"""
from __future__ import annotations

from collections.abc import Callable

from django.db import migrations, transaction

from . import crypto

BATCH = 500


def table_batches(connection, *, table: str, pk: str, columns: list[str], batch: int = BATCH):
    """[(pk, {column: value}), ...] of `table` in primary-key order, `batch` rows at a time."""
    quote = connection.ops.quote_name
    select = ", ".join(quote(c) for c in [pk, *columns])
    last = None
    while True:
        where = f" WHERE {quote(pk)} > %s" if last is not None else ""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {select} FROM {quote(table)}{where} ORDER BY {quote(pk)} LIMIT {int(batch)}",
                           [last] if last is not None else [])
            rows = cursor.fetchall()
        if not rows:
            return
        yield [(row[0], dict(zip(columns, row[1:], strict=True))) for row in rows]
        last = rows[-1][0]


def rewrite_table(connection, *, table: str, pk: str, columns: list[str],
                  change: Callable[[object, dict], dict | None], batch: int = BATCH) -> int:
    """Calls `change(pk, values)` for every row; writes back the columns it returns (None: row unchanged), each
    batch in one transaction. Returns the number of rows written."""
    quote = connection.ops.quote_name
    written = 0
    for rows in table_batches(connection, table=table, pk=pk, columns=columns, batch=batch):
        updates = []
        for key, values in rows:
            new = change(key, values)
            if new:
                updates.append((key, new))
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for key, new in updates:
                assignments = ", ".join(f"{quote(c)} = %s" for c in new)
                cursor.execute(f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s", [*new.values(), key])
        written += len(updates)
    return written


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, memoryview)):
        value = bytes(value).decode("utf-8")
    return value if isinstance(value, str) else str(value)


class EncryptColumns(migrations.RunPython):
    def __init__(self, model: str, *, columns: dict[str, str | None], indexes: dict[str, str] | None = None):
        self.model_name = model
        self.columns = columns
        self.indexes = indexes or {}
        super().__init__(self.forward, self.backward, elidable=False)

    def _meta(self, apps):
        model = apps.get_model(self.app_label, self.model_name)
        meta = model._meta
        by_name = {f.name: f.column for f in meta.concrete_fields}
        return meta.db_table, meta.pk.column, by_name

    def state_forwards(self, app_label, state):
        self.app_label = app_label

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.app_label = app_label
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self.app_label = app_label
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def forward(self, apps, schema_editor):
        table, pk, by_name = self._meta(apps)
        names = list(self.columns) + list(self.indexes)
        columns = [by_name[n] for n in names]
        key = crypto.current_key()

        def change(_pk, values):
            plain = {}
            new = {}
            for name in self.columns:
                value = _text(values[by_name[name]])
                if crypto.is_encrypted(value):
                    plain[name] = crypto.decrypt(value)
                else:
                    plain[name] = value
                    if value:
                        new[by_name[name]] = crypto.encrypt(value, key=key)
            for index, source in self.indexes.items():
                kind = self.columns[source] or source
                wanted = crypto.blind_index(plain[source], kind=kind, key=key)
                if values[by_name[index]] != wanted:
                    new[by_name[index]] = wanted
            return new or None

        rewrite_table(schema_editor.connection, table=table, pk=pk, columns=columns, change=change)

    def backward(self, apps, schema_editor):
        table, pk, by_name = self._meta(apps)
        columns = [by_name[n] for n in self.columns]

        def change(_pk, values):
            new = {}
            for name in self.columns:
                value = _text(values[by_name[name]])
                if crypto.is_encrypted(value):
                    new[by_name[name]] = crypto.decrypt(value)
            return new or None

        rewrite_table(schema_editor.connection, table=table, pk=pk, columns=columns, change=change)

    def describe(self):
        return f"Encrypt {', '.join(self.columns)} of {self.model_name} (SM4) and fill their blind indexes"

    def deconstruct(self):
        return (self.__class__.__name__, [self.model_name], {"columns": self.columns, "indexes": self.indexes})
