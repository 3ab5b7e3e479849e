"""Money and quantities: decimal strings on the wire, integer nanos in the database.

Never floats: a price is parsed from its decimal string, multiplied as a ``Decimal`` and
rounded half-even to the nano (10⁻⁹), so SQL sums are exact integers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from ocx.common import errors

NANO = Decimal("0.000000001")
SCALE = 10**9
MAX_NANOS = 2**62


def parse_decimal(text: object, what: str) -> Decimal:
    if not isinstance(text, str | int) or isinstance(text, bool):
        raise errors.BadRequest(f"{what} must be a decimal string, not {text!r}.")
    try:
        value = Decimal(str(text))
    except InvalidOperation as exc:
        raise errors.BadRequest(f"{what} must be a decimal number, not {text!r}.") from exc
    if not value.is_finite() or value < 0:
        raise errors.BadRequest(f"{what} must be a finite number ≥ 0, not {text!r}.")
    if value > Decimal(10**12):
        raise errors.BadRequest(f"{what} is too large.")
    return value


def to_nanos(value: Decimal) -> int:
    return int(value.scaleb(9).to_integral_value(ROUND_HALF_EVEN))


def price_nanos(text: object, what: str) -> int:
    return to_nanos(parse_decimal(text, what))


def cost_nanos(quantity: Decimal, unit_price_nanos: int) -> int:
    return int((quantity * unit_price_nanos).to_integral_value(ROUND_HALF_EVEN))


def show(nanos: int) -> str:
    """Nanos as a decimal string with the trailing zeros kept to cents at least."""
    value = (Decimal(nanos) * NANO).quantize(NANO)
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def plain_nanos(text: object) -> int | None:
    """``text`` in nanos when it is a plain decimal (ASCII digits, at most 9 after the point)
    or an int ≥ 0, exactly, by integer arithmetic; None for any other form (the caller then
    takes the general :class:`Decimal` path, which also gives the errors)."""
    if type(text) is int:
        return text * SCALE if text >= 0 else None
    if type(text) is not str or not text.isascii():
        return None
    whole, dot, frac = text.partition(".")
    if not whole.isdigit() or len(whole) > 13 or len(frac) > 9:
        return None
    if not dot:
        return int(whole) * SCALE
    if not frac.isdigit():
        return None
    return int(whole) * SCALE + int(frac) * 10 ** (9 - len(frac))


def cost_of_nanos(quantity_nanos: int, unit_price_nanos: int) -> int:
    """The cost in nanos of ``quantity_nanos`` at ``unit_price_nanos`` a unit, rounded half-even
    to the nano: the same as :func:`cost_nanos` for a quantity with at most 9 decimals, done in
    exact integers."""
    quotient, rest = divmod(quantity_nanos * unit_price_nanos, SCALE)
    twice = 2 * rest
    if twice > SCALE or (twice == SCALE and quotient & 1):
        quotient += 1
    return quotient
