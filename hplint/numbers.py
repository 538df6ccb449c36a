"""Numbers as messages print them: `3.16e-4`, not `0.000316228`.

`readable(x)` is the one formatter rule messages use for the numbers they
quote (search bounds, betas, eps):

- an int is printed as an int (`2048`);
- a float is rounded to 3 significant digits (`0.000316228` -> `3.16e-4`,
  float noise such as `1 - 0.9` -> `0.1`);
- except within 1% of 1 (momenta, betas), where the distance to 1 is rounded
  instead, so `0.9999` stays `0.9999` rather than reading `1`, and
  `0.99683772` reads `0.99684` (1 - 3.16e-3);
- scientific notation below 1e-3 and from 1e5 (`1e-8`, `3.16e-4`, `2.5e6`, no
  `+` or leading zeros in the exponent), plain decimals in between; never a
  trailing zero or a trailing `.`.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Union

Number = Union[int, float]

#: Floats are rounded to this many significant digits.
DIGITS = 3
_SMALL, _LARGE = 1e-3, 1e5
_NEAR_ONE = 0.01


def readable(x: Number, digits: int = DIGITS) -> str:
    """`x` for a message (see the module docstring)."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if 0 < abs(1.0 - abs(x)) < _NEAR_ONE:
        return _near_one(x, digits)
    return _shortest(float(f"{x:.{digits}g}"))


def _shortest(x: float) -> str:
    """The shortest form of `x` that reads back as `x`, in hplint's notation."""
    sign = "-" if x < 0 else ""
    magnitude = abs(x)
    _, digit_tuple, exp = Decimal(repr(magnitude)).normalize().as_tuple()
    assert isinstance(exp, int)
    digits = "".join(map(str, digit_tuple))
    power = len(digits) - 1 + exp  # the decimal exponent of the first digit
    if _SMALL <= magnitude < _LARGE:
        if exp >= 0:
            body = digits + "0" * exp
        elif power >= 0:
            body = digits[: power + 1] + "." + digits[power + 1:]
        else:
            body = "0." + "0" * (-power - 1) + digits
    else:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "") + f"e{power}"
    return sign + body


def _near_one(x: float, digits: int) -> str:
    """`x` (within 1% of 1 or -1) with its distance to 1 rounded to `digits`."""
    sign = "-" if x < 0 else ""
    distance = 1.0 - abs(x)
    rounded = Decimal(repr(float(f"{distance:.{digits}g}")))
    text = format((Decimal(1) - rounded).normalize(), "f")
    return sign + (text.rstrip("0").rstrip(".") if "." in text else text)
