"""Numbers, dates and remarks of a statement in its language."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from custom_components.iem_dcr.pricing import PriceMethod
from custom_components.iem_dcr.sessions import Verdict

from .model import Period, Remark, RemarkKind, Statement, StatementRow
from .texts import FINDINGS_DE, TEXTS

DASH = "\u2013"  # en dash: no value
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}
_SYMBOL_FIRST = frozenset({"$", "£", "¥", "₹"})
_ENERGY_PLACES = 3
_PRICE_PLACES = (2, 4)
_VERDICT_KEYS = {
    Verdict.VALID: "verdict_valid",
    Verdict.FINDINGS: "verdict_findings",
    Verdict.INVALID: "verdict_invalid",
    Verdict.UNCHECKED: "verdict_unchecked",
    Verdict.UNREADABLE: "verdict_unreadable",
}
_METHOD_ORDER = (
    PriceMethod.DRIVER,
    PriceMethod.FIXED,
    PriceMethod.ENTITY,
    PriceMethod.NONE,
)


class Wording:
    """How one statement words its values: language, currency, time zone."""

    def __init__(self, language: str, currency: str, zone: tzinfo) -> None:
        """Word values in `language` ("en" or "de")."""
        self.language = language
        self.texts = TEXTS[language]
        self.currency = currency
        self.symbol = _SYMBOLS.get(currency.upper(), currency)
        self.zone = zone
        self._point, self._group = (",", ".") if language == "de" else (".", ",")

    @classmethod
    def of(cls, statement: Statement) -> Wording:
        """Return the wording of a statement."""
        return cls(statement.language, statement.currency, statement.zone)

    def text(self, key: str, **values: object) -> str:
        """Return a text of the table, with its placeholders filled."""
        return self.texts[key].format(**values)

    # --- numbers --------------------------------------------------------------------

    def number(
        self, value: Decimal, places: int, *, grouped: bool = True, exact: bool = True
    ) -> str:
        """Write a number with at least `places` decimals.

        `exact`: never round away digits (a signed value keeps all it has).
        """
        if not exact or _decimals(value) <= places:
            value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        sign = "-" if value < 0 else ""
        whole, _, fraction = f"{abs(value):f}".partition(".")
        if grouped:
            whole = f"{int(whole):,}".replace(",", self._group)
        return sign + whole + (self._point + fraction if fraction else "")

    def energy(self, value: Decimal | None, *, grouped: bool = True) -> str:
        """Write kWh with three decimals, or more when the value has them."""
        if value is None:
            return DASH
        return self.number(value, _ENERGY_PLACES, grouped=grouped)

    def price(self, value: Decimal | None, *, grouped: bool = True) -> str:
        """Write a price per kWh with two to four decimals (rounded beyond)."""
        if value is None:
            return DASH
        low, high = _PRICE_PLACES
        places = min(max(_decimals(value.normalize()), low), high)
        return self.number(value, places, grouped=grouped, exact=False)

    def amount(self, value: Decimal | None, *, grouped: bool = True) -> str:
        """Write an amount of money with two decimals, without the currency."""
        if value is None:
            return DASH
        return self.number(value, 2, grouped=grouped, exact=False)

    def money(self, value: Decimal) -> str:
        """Write an amount with its currency (12,34 € in German, €12.34 in English)."""
        amount = self.amount(value)
        if self.language == "en" and (
            self.symbol in _SYMBOL_FIRST or self.symbol == "€"
        ):
            if amount.startswith("-"):
                return f"-{self.symbol}{amount[1:]}"
            return f"{self.symbol}{amount}"
        return f"{amount}\u00a0{self.symbol}"

    def price_with_unit(self, value: Decimal | None) -> str:
        """Write a price per kWh with its currency."""
        if value is None:
            return DASH
        if self.language == "en" and (
            self.symbol in _SYMBOL_FIRST or self.symbol == "€"
        ):
            return f"{self.symbol}{self.price(value)}"
        return f"{self.price(value)}\u00a0{self.symbol}"

    # --- dates ----------------------------------------------------------------------

    def date(self, moment: datetime) -> str:
        """Write the day of `moment` in the statement's time zone."""
        local = moment.astimezone(self.zone)
        if self.language == "de":
            return local.strftime("%d.%m.%Y")
        return local.strftime("%Y-%m-%d")

    def clock(self, moment: datetime) -> str:
        """Write the time of day (hh:mm) of `moment` in the statement's time zone."""
        return moment.astimezone(self.zone).strftime("%H:%M")

    def end(self, begin: datetime, end: datetime) -> str:
        """Write an end time; with its day when it is not the begin's day."""
        local_begin, local_end = begin.astimezone(self.zone), end.astimezone(self.zone)
        if local_begin.date() == local_end.date():
            return self.clock(end)
        day = (
            local_end.strftime("%d.%m.")
            if self.language == "de"
            else local_end.strftime("%m-%d")
        )
        return f"{day} {self.clock(end)}"

    def period(self, period: Period) -> str:
        """Write a period: a month by name, otherwise its first and last day."""
        month = period.calendar_month(self.zone)
        if month is not None:
            return f"{self.text(f'month_{month[1]}')} {month[0]}"
        first, last = period.days_in(self.zone)
        if self.language == "de":
            return f"{first:%d.%m.%Y} {DASH} {last:%d.%m.%Y}"
        return f"{first:%Y-%m-%d} {DASH} {last:%Y-%m-%d}"

    def zone_name(self) -> str:
        """Return the time zone's name (e.g. Europe/Berlin)."""
        return str(getattr(self.zone, "key", None) or self.zone)

    # --- sessions ---------------------------------------------------------------

    def verdict(self, verdict: Verdict) -> str:
        """Return the word for a session's verdict."""
        return self.text(_VERDICT_KEYS[verdict])

    def driver(self, name: str | None) -> str:
        """Return a driver's name, or a dash for none."""
        return name or DASH

    def method(self, method: PriceMethod, flat_rate: Decimal | None = None) -> str:
        """Return how a price was found."""
        if method is PriceMethod.FLAT_RATE:
            return self.text("method_flat_rate", price=self.price_with_unit(flat_rate))
        return self.text(f"method_{method.value}")

    def methods_used(self, statement: Statement) -> str:
        """Describe the price methods of the statement's rows."""
        if statement.pricing.flat_rate is not None:
            return self.method(PriceMethod.FLAT_RATE, statement.pricing.flat_rate)
        used = {row.cost.method for row in statement.rows}
        methods = [self.method(method) for method in _METHOD_ORDER if method in used]
        return "; ".join(methods) or self.text("method_none")

    def remark(self, remark: Remark) -> str:
        """Word one remark."""
        values = remark.values
        match remark.kind:
            case RemarkKind.FINDING:
                message = str(values["message"])
                if self.language == "de":
                    message = FINDINGS_DE.get(str(values["code"]), message)
                return self.text("remark_finding", message=message)
            case RemarkKind.GAP | RemarkKind.PRICE_UNAVAILABLE | RemarkKind.UNMATCHED:
                return self.text(
                    f"remark_{remark.kind.value}",
                    energy=self.energy(values["energy"]),
                    price=self.price_with_unit(values["price"]),
                )
            case RemarkKind.SCALED:
                return self.text(
                    "remark_scaled",
                    polled=self.energy(values["polled"]),
                    signed=self.energy(values["signed"]),
                )
            case RemarkKind.TPS:
                return self.text("remark_tps", reason=values["reason"])
            case RemarkKind.UNREADABLE:
                return self.text("remark_unreadable", error=values["error"])
            case _:
                return self.text(f"remark_{remark.kind.value}")

    def remarks(self, row: StatementRow) -> list[str]:
        """Word a row's remarks, each once."""
        return list(dict.fromkeys(self.remark(remark) for remark in row.remarks))


def _decimals(value: Decimal) -> int:
    """Return how many digits the value has after the decimal point."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
