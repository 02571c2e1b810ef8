"""Bulk loading for the demo seed: rows as tuples, written by each driver's fastest path (SQLite executemany,
PostgreSQL COPY), with dates stored exactly as SQLAlchemy stores them so that the models read them back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Date, DateTime, Table, text

from crm.models import Base, UtcDateTime

# Rows per executemany: large enough that the per-call cost vanishes, small enough to keep memory flat.
_BATCH = 20_000


class BulkLoader:
    """Writes plain values (int, str, bool, None, date, datetime; JSON columns as JSON text) inside the
    connection's transaction. Row-by-row SQLAlchemy processing costs three times the insert itself on SQLite,
    which is why this bypasses it for the millions of demo bills and payments."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self.postgresql = self.dialect.name == "postgresql"

    def write(
        self, model: type[Base], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, stored: bool = False
    ) -> int:
        """Write `rows` (values in `columns` order). With stored=True their dates and times are already in the
        form stored_form() gives, which saves converting a million of them one by one."""
        table = cast(Table, model.__table__)
        if self.postgresql:
            return self._copy(table, columns, rows)
        return self._executemany(table, columns, rows, convert=not stored)

    def stored_form(self, model: type[Base], column: str) -> Callable[[Any], Any]:
        """What a value of this column becomes in the database driver's hands (PostgreSQL: itself)."""
        converter = None if self.postgresql else self._converter(cast(Table, model.__table__), column)
        return converter or _unchanged

    def _executemany(
        self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, convert: bool
    ) -> int:
        # Unless the caller converted them already, dates and times become text as SQLAlchemy would write them.
        quote = self.dialect.identifier_preparer.quote
        statement = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        converters = [(i, f) for i, f in enumerate(self._converter(table, c) for c in columns) if f is not None]
        if not convert:
            converters.clear()
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        written = 0
        batch: list[Sequence[Any]] = []
        try:
            for row in rows:
                if converters:
                    row = list(row)
                    for i, to_stored in converters:
                        row[i] = to_stored(row[i])
                batch.append(row)
                if len(batch) >= _BATCH:
                    cursor.executemany(statement, batch)
                    written += len(batch)
                    batch.clear()
            if batch:
                cursor.executemany(statement, batch)
                written += len(batch)
        finally:
            cursor.close()
        return written

    def _converter(self, table: Table, column: str) -> Callable[[Any], Any] | None:
        """SQLAlchemy's own bind processor for date and time columns (so the stored text is identical),
        remembered per value because the demo's dates repeat a great deal."""
        kind = table.c[column].type
        if not isinstance(kind, Date | DateTime | UtcDateTime):
            return None
        process = kind.dialect_impl(self.dialect).bind_processor(self.dialect)
        if process is None:
            return None
        return _Memo(process).__getitem__

    def _copy(self, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        quote = self.dialect.identifier_preparer.quote
        statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        written = 0
        try:
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        finally:
            cursor.close()
        return written

    def reset_sequences(self, tables: Iterable[Table]) -> None:
        """After rows with explicit ids, move PostgreSQL's id sequences past them so later inserts do not
        collide; SQLite needs nothing, it takes the largest id plus one."""
        if not self.postgresql:
            return
        for table in tables:
            if "id" not in table.c:
                continue
            self.connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                )
            )


class _Memo(dict[Any, Any]):
    """A value's stored form, computed once: a dictionary hit costs far less than SQLAlchemy's formatting."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        super().__init__()
        self.process = process

    def __missing__(self, value: Any) -> Any:
        stored = self[value] = None if value is None else self.process(value)
        return stored


def _unchanged(value: Any) -> Any:
    return value
