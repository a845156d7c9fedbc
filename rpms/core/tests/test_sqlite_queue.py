"""rpms.core.sqlite: the writers of one process take turns first come, first served, so that a writer waits for
the queue ahead of it and never runs out of SQLite's busy timeout while others keep the lock busy."""
import threading
import time

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from rpms.core.sqlite.base import WriteQueue

BUSY_TIMEOUT = 0.5  # seconds: SQLite's busy handler gives up after this
HOLD = 1.5  # a transaction that keeps the write lock longer than that


def test_the_queue_serves_waiters_in_the_order_they_came():
    queue = WriteQueue()
    assert queue.acquire(timeout=1)
    order = []

    def wait(n):
        assert queue.acquire(timeout=10)
        order.append(n)
        queue.release()

    threads = []
    for n in range(6):
        thread = threading.Thread(target=wait, args=(n,))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 5
        while len(queue._waiters) < n + 1 and time.monotonic() < deadline:  # each one queued before the next
            time.sleep(0.005)
    queue.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == list(range(6))


def test_a_waiter_that_gives_up_leaves_the_queue():
    queue = WriteQueue()
    assert queue.acquire(timeout=1)
    assert queue.acquire(timeout=0.05) is False
    assert not queue._waiters
    queue.release()
    assert queue.acquire(timeout=0.05)


def _database(engine: str, path):
    """A connection of its own (one per thread) to the file database, configured as the settings do."""
    handler = ConnectionHandler({"default": {
        "ENGINE": engine, "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": BUSY_TIMEOUT, "init_command": "PRAGMA journal_mode=WAL"},
    }})
    return handler["default"]


def _write(db, *, hold: float = 0.0, in_transaction: bool = True):
    """What `transaction.atomic()` does on SQLite around one INSERT (or the INSERT alone, autocommit)."""
    if not in_transaction:
        with db.cursor() as cursor:
            cursor.execute("INSERT INTO note (text) VALUES (%s)", ["autocommit"])
        return
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        with db.cursor() as cursor:
            cursor.execute("INSERT INTO note (text) VALUES (%s)", ["in a transaction"])
        time.sleep(hold)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.set_autocommit(True)


def _contend(engine: str, path) -> list:
    """One writer keeps the lock for HOLD seconds; four more, two of them in autocommit mode, come meanwhile.
    Returns what each of the four met: "ok" or the error."""
    setup = _database(engine, path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, text TEXT)")
    setup.close()
    holding = threading.Event()
    results = []

    def first():
        db = _database(engine, path)
        db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        holding.set()
        time.sleep(HOLD)
        db.commit()
        db.set_autocommit(True)
        db.close()

    def later(in_transaction):
        db = _database(engine, path)
        try:
            _write(db, in_transaction=in_transaction)
            results.append("ok")
        except OperationalError as exc:
            results.append(str(exc))
        finally:
            db.close()

    holder = threading.Thread(target=first)
    holder.start()
    assert holding.wait(timeout=10)
    threads = [threading.Thread(target=later, args=(n % 2 == 0,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in [holder, *threads]:
        thread.join(timeout=30)
    return results


def test_queued_writers_wait_for_their_turn_longer_than_the_busy_timeout(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():  # its own file database, not the test database
        assert _contend("rpms.core.sqlite", tmp_path / "queued.sqlite3") == ["ok"] * 4


def test_without_the_queue_the_same_writers_fail_with_database_is_locked(tmp_path, django_db_blocker):
    # The contrast that gives the test above its meaning: Django's own backend, same settings.
    with django_db_blocker.unblock():
        results = _contend("django.db.backends.sqlite3", tmp_path / "plain.sqlite3")
    assert "database is locked" in results, results
