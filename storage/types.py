"""Column types that behave the same on SQLite and PostgreSQL.

- `UTCDateTime`: accepts only timezone-aware datetimes, stores UTC, always returns aware UTC
  (SQLite has no time zones: the value is stored as naive UTC and tagged on the way out).
- `Money`: exact `Decimal`; NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC is a float).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from storage import clock


def utcnow() -> datetime:
    """The process's time (`storage.clock`): the system clock unless the playground moved it."""
    return clock.now()


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: pass a timezone-aware value (UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """An exact amount of money (18 digits, 4 after the point)."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be a Decimal, not a float")
        try:
            amount = Decimal(value)
        except (InvalidOperation, TypeError):
            raise ValueError(f"not an amount of money: {value!r}") from None
        if not amount.is_finite():
            raise ValueError("money must be finite")
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value


# JSON where a Python None is stored as SQL NULL (not the JSON literal null).
JSONValue = JSON(none_as_null=True)
