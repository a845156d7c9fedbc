"""Django's SQLite backend, made to serve a multi-threaded web server (`make run`).

With `transaction_mode` IMMEDIATE (config/settings/base.py) every transaction takes SQLite's one write lock
when it begins, and a writer that finds it taken waits in SQLite's busy handler: it sleeps and polls (every
100 ms once it has waited a while) until the lock is free at the instant it looks, or the busy timeout
passes — "database is locked". The handler is not a queue: under steady load from many threads a writer
can lose every poll to writers that came later, and waited more than 20 s in the concurrency test
(tests/test_concurrency_live.py) although each transaction lasts a fraction of a second.

This backend queues the writers of one process first come, first served before they ask SQLite: each
IMMEDIATE (or EXCLUSIVE) transaction, and each data-changing statement run outside a transaction (a
`save()` in autocommit mode), waits for its turn in a FIFO queue per database file, and its turn ends when
the transaction ends (commit, rollback or closed connection). A writer's wait is then the queue ahead of
it, not luck. SQLite's busy timeout still governs the other processes on the same file (management
commands, a second server); after `queue_timeout` seconds in the queue (OPTIONS, default 120) a writer
stops waiting for its turn and asks SQLite as before. Reads never queue (WAL: readers don't block the
writer and the writer doesn't block them).
"""
import collections
import logging
import threading

from django.db.backends.sqlite3 import base, operations

logger = logging.getLogger(__name__)

QUEUE_TIMEOUT = 120
QUEUED_MODES = frozenset({"IMMEDIATE", "EXCLUSIVE"})
WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteQueue:
    """A first-come-first-served lock: release hands the turn to the longest waiter."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: collections.deque[threading.Event] = collections.deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # the turn came just as the wait ended
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # the turn passes directly: still held
            else:
                self._held = False


_queues: dict[str, WriteQueue] = {}
_queues_lock = threading.Lock()


def write_queue(name) -> WriteQueue:
    with _queues_lock:
        return _queues.setdefault(str(name), WriteQueue())


class QueuedCursorWrapper(base.SQLiteCursorWrapper):
    db = None  # the DatabaseWrapper, set by create_cursor

    def execute(self, query, params=None):
        if self.db is not None and self.db.statement_needs_turn(query):
            with self.db.write_turn():
                return super().execute(query, params)
        return super().execute(query, params)

    def executemany(self, query, param_list):
        if self.db is not None and self.db.statement_needs_turn(query):
            with self.db.write_turn():
                return super().executemany(query, param_list)
        return super().executemany(query, param_list)


class _Turn:
    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db._turn_take()

    def __exit__(self, *exc):
        self.db._turn_end()


AUDIT_TABLE = "core_actionlog"


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        """`flush` (and the tests' TransactionTestCase) empty every table with DELETE; the audit trail's trigger
        refuses DELETE (core migration 0005), so it is lifted for that one flush and put back, in the same
        transaction. PostgreSQL's flush is a TRUNCATE, which row triggers do not see either."""
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if AUDIT_TABLE not in tables or not statements:
            return statements
        from rpms.core.audit_chain import SQLITE_NO_DELETE_TRIGGER

        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'core_actionlog_no_delete'")
            if cursor.fetchone() is None:
                return statements
        return ["DROP TRIGGER core_actionlog_no_delete;", *statements, SQLITE_NO_DELETE_TRIGGER.strip()]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._has_turn = False
        self.queue_timeout = QUEUE_TIMEOUT

    def get_connection_params(self):
        kwargs = super().get_connection_params()
        self.queue_timeout = float(kwargs.pop("queue_timeout", QUEUE_TIMEOUT))
        return kwargs

    def _queued(self) -> bool:
        return self.transaction_mode in QUEUED_MODES

    def _turn_take(self) -> None:
        if self._has_turn or not self._queued():
            return
        if write_queue(self.settings_dict["NAME"]).acquire(self.queue_timeout):
            self._has_turn = True
        else:
            logger.warning("SQLite write queue: no turn after %s s; asking SQLite directly", self.queue_timeout)

    def _turn_end(self) -> None:
        if self._has_turn:
            self._has_turn = False
            write_queue(self.settings_dict["NAME"]).release()

    def write_turn(self) -> _Turn:
        return _Turn(self)

    def statement_needs_turn(self, query: str) -> bool:
        """A data-changing statement in autocommit mode (inside a transaction the turn is already held)."""
        return (self.autocommit and not self._has_turn and self._queued()
                and query.lstrip()[:7].upper().startswith(WRITE_STATEMENTS))

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=QueuedCursorWrapper)
        cursor.db = self
        return cursor

    def _start_transaction_under_autocommit(self):
        self._turn_take()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._turn_end()
            raise

    def _set_autocommit(self, autocommit):
        try:
            super()._set_autocommit(autocommit)
        finally:
            if autocommit:  # the transaction is over (committed or rolled back)
                self._turn_end()

    def _close(self):
        try:
            super()._close()
        finally:
            self._turn_end()
