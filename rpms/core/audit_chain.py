"""The audit trail's tamper-evident chain (等保 2.0 GB/T 22239-2019 8.1.4.3 审计记录的保护; GB/T 39786-2021 SM3).

Every ActionLog row carries `mac`: an SM3 HMAC, under the key settings.RPMS_AUDIT_KEY, over the canonical
serialisation of the row's content — every column but `mac` itself, its id and time included — followed by
the previous row's `mac` (in id order; the first row follows the empty string). Editing a row by hand breaks
its own MAC; deleting one breaks the MAC of the row after the gap; neither can be repaired without the key.

Appending is serialised so that two writers never read the same "previous" row (which would fork the chain):
- PostgreSQL: `pg_advisory_xact_lock` inside the writer's transaction before the last row is read; the id
  is drawn from the table's sequence after the lock, so ids grow in chain order. The lock is held until the
  writer's transaction ends (commit or rollback), then the next writer reads the committed last row.
- SQLite: every transaction is IMMEDIATE (config/settings/base.py, rpms.core.sqlite): it holds the database's
  one write lock from BEGIN to its end, so no other writer runs between the read of the last row and the
  commit. (Even a DEFERRED transaction could not fork it: under WAL a writer whose snapshot is stale gets
  SQLITE_BUSY_SNAPSHOT instead of the write lock.)

`verify` streams the rows in id order and recomputes each MAC; it never holds the trail in memory.
"""
import contextlib
import datetime
import decimal
import ipaddress
import json

from django.conf import settings
from django.db import connections, transaction

from .crypto import sm3_hmac

# The key of pg_advisory_xact_lock that serialises the appends (b"RPMSAUDT" as a signed 64-bit integer).
PG_LOCK_KEY = int.from_bytes(b"RPMSAUDT", "big", signed=True)

# The columns of core_actionlog covered by the MAC, in the order they are read for verification.
CHAIN_COLUMNS = (
    "id", "at", "actor_id", "actor_repr", "ip", "action", "object_type", "object_id", "object_repr",
    "city_code", "article", "summary", "before", "after",
)
# The database's own refusal on SQLite (PostgreSQL: migration 0002's function, see 0005): no UPDATE, no DELETE.
SQLITE_NO_UPDATE_TRIGGER = """
CREATE TRIGGER core_actionlog_no_update BEFORE UPDATE ON core_actionlog
BEGIN SELECT RAISE(ABORT, 'core_actionlog is append-only'); END;
"""
SQLITE_NO_DELETE_TRIGGER = """
CREATE TRIGGER core_actionlog_no_delete BEFORE DELETE ON core_actionlog
BEGIN SELECT RAISE(ABORT, 'core_actionlog is append-only: its rows are kept (网络安全法 art. 21)'); END;
"""
# PostgreSQL: the append's lock, id and previous MAC in one call. A VOLATILE function takes a fresh snapshot per
# statement, so the SELECT after the lock sees the row the previous holder of the lock committed.
PG_CHAIN_NEXT_FUNCTION = """
CREATE OR REPLACE FUNCTION core_actionlog_chain_next(lock_key bigint)
RETURNS TABLE (next_id bigint, previous_mac varchar) AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    next_id := nextval(pg_get_serial_sequence('core_actionlog', 'id'));
    SELECT mac INTO previous_mac FROM core_actionlog ORDER BY id DESC LIMIT 1;
    RETURN NEXT;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""
MAC_LENGTH = 64  # SM3 digests are 32 bytes, stored as hex
VERIFY_CHUNK = 2000


def _key() -> bytes:
    key = getattr(settings, "RPMS_AUDIT_KEY", "")
    if not key:
        raise RuntimeError("RPMS_AUDIT_KEY is not set: the audit trail cannot be sealed or verified")
    return key.encode() if isinstance(key, str) else bytes(key)


def _canonical_time(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # a raw value read without Django's converters
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical_ip(value) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return str(value)


def _number(value) -> str:
    """A JSON number in one spelling whatever the database made of it: PostgreSQL's jsonb keeps numbers as
    `numeric` and gives 1e16 back as 10000000000000000 and 5.0 as 5.0; both sides spell them as a normalised
    decimal (1E+16, 5)."""
    number = decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
    return str(number.normalize()) if number.is_finite() else str(number)


def _encode(value) -> str:
    """Canonical JSON text: keys sorted, no spaces, strings as json.dumps spells them, numbers by `_number`."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key, ensure_ascii=False)}:{_encode(value[key])}" for key in sorted(value)) + "}"
    raise TypeError(f"not JSON: {type(value).__name__}")


def _canonical_json(value) -> str:
    """A JSON column as the database gives it back (json.dumps then json.loads: tuples become lists, keys strings),
    in canonical text."""
    if value is None:
        return "null"
    return _encode(json.loads(json.dumps(value)))


def canonical(values: dict) -> bytes:
    """The bytes the MAC covers: the row's columns (CHAIN_COLUMNS) as one canonical JSON object, keys sorted."""
    data = {
        "id": int(values["id"]),
        "at": _canonical_time(values["at"]),
        "actor_id": int(values["actor_id"]) if values.get("actor_id") is not None else None,
        "actor_repr": values.get("actor_repr") or "",
        "ip": _canonical_ip(values.get("ip")),
        "action": values.get("action") or "",
        "object_type": values.get("object_type") or "",
        "object_id": str(values.get("object_id") or ""),
        "object_repr": values.get("object_repr") or "",
        "city_code": values.get("city_code") or "",
        "article": values.get("article") or "",
        "summary": values.get("summary") or "",
    }
    text = _encode(data)
    # before and after are added as canonical JSON text, after the other columns (keys sorted among themselves)
    return f"{text[:-1]},\"after\":{_canonical_json(values.get('after'))},\"before\":{_canonical_json(values.get('before'))}}}".encode()


def compute_mac(values: dict, previous_mac: str, *, key: bytes | None = None) -> str:
    # b"\x1e": a separator, so the content can never run into the previous MAC
    return sm3_hmac(key or _key(), canonical(values), b"\x1e", (previous_mac or "").encode()).hex()


def _row_values(row) -> dict:
    return {column: getattr(row, column) for column in CHAIN_COLUMNS}


def _last_row(cursor, table: str):
    cursor.execute(f"SELECT id, mac FROM {table} ORDER BY id DESC LIMIT 1")
    return cursor.fetchone()


def seal(row, using: str) -> None:
    """Gives the unsaved ActionLog `row` its id and its MAC, chained to the last row. Call inside the
    transaction that inserts it (ActionLog.save does), right before the INSERT."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("an audit row is sealed inside the transaction that inserts it")
    table = connection.ops.quote_name(row._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip: the lock, then the id from the sequence, then the last row's MAC (migration 0005).
            cursor.execute("SELECT next_id, previous_mac FROM core_actionlog_chain_next(%s)", [PG_LOCK_KEY])
            row.id, previous = cursor.fetchone()
        else:
            last = _last_row(cursor, table)
            row.id, previous = ((last[0] + 1), last[1]) if last else (1, "")
    from django.utils import timezone

    from . import clock

    if row.at is None:
        row.at = clock.now()
    elif timezone.is_naive(row.at):  # stored as Django stores it: in the current time zone
        row.at = timezone.make_aware(row.at)
    row.mac = compute_mac(_row_values(row), previous or "")


def verify(using: str = "default", *, chunk_size: int = VERIFY_CHUNK) -> dict:
    """Recomputes the chain in id order: {"ok", "rows", "first_bad"}. A row whose content was changed is
    reported by its id; a deleted row by the id of the row after the gap. Streams the table (server-side
    cursor on PostgreSQL, chunks elsewhere): constant memory on a million rows."""
    from django.apps import apps

    ActionLog = apps.get_model("core", "ActionLog")  # (not imported: models imports this module)  # noqa: N806
    key = _key()
    previous = ""
    rows = 0
    first_bad = None
    queryset = ActionLog.objects.using(using).order_by("id").values_list(*CHAIN_COLUMNS, "mac")
    # PostgreSQL: one transaction, so the server-side cursor streams one snapshot (no WITH HOLD copy). SQLite: no
    # transaction (an IMMEDIATE one would hold the write lock while verifying); one statement is one snapshot.
    atomic = transaction.atomic(using=using) if connections[using].vendor == "postgresql" else contextlib.nullcontext()
    with atomic:
        for record in queryset.iterator(chunk_size=chunk_size):
            rows += 1
            if first_bad is not None:
                continue
            values = dict(zip(CHAIN_COLUMNS, record[:-1], strict=True))
            stored = record[-1]
            if stored != compute_mac(values, previous, key=key):
                first_bad = values["id"]
            previous = stored
    return {"ok": first_bad is None, "rows": rows, "first_bad": first_bad}
