"""A client's ledger for one asset, walked day by day: positions and the entries the series
is computed from (docs/metrics.md, "The ledger").

A ledger holds the client's own movements — buys and sells (quantity, price, fees) and income
typed by hand (an amount and the tax withheld) — and the asset's events, which apply to every
holder: splits and reverse splits (a ratio of shares after to shares before), bonus shares
(new shares per share held, with the cost per share the company assigns) and income per share
(dividendo, JCP with its withholding rate, rendimento, amortização) recognised on the ex-date.

Within one day the order is fixed: the asset's events first — a split (it changes the units
of the quantity carried from the day before), income per share (due on that quantity: a buy
on the ex-date earns none, and neither do bonus shares of the same ex-date), bonus shares —
then buys, then sells (a sell on the buy day is allowed),
then income typed by hand. Amounts are ``Decimal``: positions are money and are shown as such.

Positions follow the Brazilian convention (preço médio, as the Receita Federal computes it):
average cost = (paid for buys, fees included, plus the assigned cost of bonus shares) /
quantity held; a sell leaves it unchanged and realises quantity x (price - average cost) -
fees; a split scales quantity and average cost inversely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class Kind(StrEnum):
    """What a ledger line or an asset event is."""

    BUY = "buy"
    SELL = "sell"
    INCOME = "income"  # typed by hand: an amount and the tax withheld
    SPLIT = "split"  # desdobramento (ratio > 1) or grupamento (ratio < 1)
    BONUS = "bonus"  # bonificação: ratio new shares per share, assigned cost per new share
    DIVIDEND = "dividend"
    JCP = "jcp"
    RENDIMENTO = "rendimento"
    AMORTIZACAO = "amortizacao"


PER_SHARE_INCOME = (Kind.DIVIDEND, Kind.JCP, Kind.RENDIMENTO, Kind.AMORTIZACAO)
# Within a day: events (splits, bonus, income per share), then buys, sells, typed income.
DAY_ORDER = {
    Kind.SPLIT: 0,
    **dict.fromkeys(PER_SHARE_INCOME, 1),
    Kind.BONUS: 2,
    Kind.BUY: 3,
    Kind.SELL: 4,
    Kind.INCOME: 5,
}


@dataclass(frozen=True, slots=True)
class Line:
    """One ledger line: a movement of the client or an event of the asset.

    * buy / sell: ``quantity``, ``price`` (per share), ``fees``;
    * income typed by hand: ``amount`` (gross) and ``tax`` (withheld);
    * split: ``ratio`` (shares after per share before: 2 for a 2-for-1, 0.1 for 10-into-1);
    * bonus: ``ratio`` (new shares per share held) and ``price`` (assigned cost per new share);
    * income per share: ``price`` (gross per share) and ``ratio`` (withholding rate, e.g.
      0.15 for JCP; 0 otherwise).
    """

    kind: Kind
    day: date
    quantity: Decimal = ZERO
    price: Decimal = ZERO
    fees: Decimal = ZERO
    amount: Decimal = ZERO
    tax: Decimal = ZERO
    ratio: Decimal = ZERO
    ref: int | None = None  # the movement's or event's id, for messages

    @property
    def sort_key(self) -> tuple[date, int, int]:
        """Date, then the order within a day, then entry order (ids)."""
        return self.day, DAY_ORDER[self.kind], self.ref or 0


class Oversold(ValueError):
    """A sell of more than was held on its date."""

    def __init__(self, line: Line, held: Decimal) -> None:
        super().__init__(f"sell of {line.quantity} on {line.day} with {held} held")
        self.line = line
        self.held = held


@dataclass(frozen=True, slots=True)
class Entry:
    """What one line adds to the client's series, in the asset's currency.

    ``quantity`` is the change in shares held from ``day`` on, in the units of that day (a
    later split scales it); ``unit_value`` values those shares until the asset has a close
    from ``day`` on; ``money_in`` is paid in at the start of ``day`` (buys, fees included),
    ``money_out`` received at its end (sells net of fees, income net of tax), ``income`` the
    part of it that is income.
    """

    day: date
    quantity: Decimal
    unit_value: Decimal
    money_in: Decimal = ZERO
    money_out: Decimal = ZERO
    income: Decimal = ZERO


@dataclass(slots=True)
class Position:
    """Where a client's holding of one asset stands after the lines walked so far."""

    quantity: Decimal = ZERO
    cost: Decimal = ZERO  # quantity x average cost
    bought: Decimal = ZERO  # paid for buys, fees included
    sold: Decimal = ZERO  # received for sells, net of fees
    realised: Decimal = ZERO
    income: Decimal = ZERO  # net of tax
    entries: list[Entry] = field(default_factory=list)

    @property
    def average_cost(self) -> Decimal | None:
        """Preço médio; None when nothing is held."""
        return self.cost / self.quantity if self.quantity else None

    def unrealised(self, price: Decimal) -> Decimal:
        """Quantity x (price - average cost)."""
        return self.quantity * price - self.cost

    def total_return(self, price: Decimal) -> tuple[Decimal, Decimal | None]:
        """(Q x P + sells + income - bought) in money, and divided by bought (None when
        nothing was bought)."""
        money = self.quantity * price + self.sold + self.income - self.bought
        return money, (money / self.bought if self.bought else None)


def ordered(lines: Iterable[Line]) -> list[Line]:
    """``lines`` in walking order (see the module docstring)."""
    return sorted(lines, key=lambda line: line.sort_key)


def walk(lines: Sequence[Line], *, through: date | None = None) -> Position:
    """The position after every line up to ``through`` (all when None), with the entries
    the series needs; raises :class:`Oversold` at the first sell of more than was held."""
    position = Position()
    for line in ordered(lines):
        if through is not None and line.day > through:
            break
        _apply(position, line)
    return position


def _apply(position: Position, line: Line) -> None:
    kind = line.kind
    if kind == Kind.BUY:
        paid = line.quantity * line.price + line.fees
        position.quantity += line.quantity
        position.cost += paid
        position.bought += paid
        position.entries.append(Entry(line.day, line.quantity, line.price, money_in=paid))
    elif kind == Kind.SELL:
        if line.quantity > position.quantity:
            raise Oversold(line, position.quantity)
        average = position.cost / position.quantity
        received = line.quantity * line.price - line.fees
        position.realised += line.quantity * (line.price - average) - line.fees
        position.sold += received
        position.cost -= line.quantity * average
        position.quantity -= line.quantity
        if not position.quantity:
            position.cost = ZERO  # no residue of rounding on a closed position
        position.entries.append(Entry(line.day, -line.quantity, line.price, money_out=received))
    elif kind == Kind.SPLIT:
        position.quantity *= line.ratio  # the cost is unchanged: the average scales inversely
    elif kind == Kind.BONUS:
        new = position.quantity * line.ratio
        if new:
            position.quantity += new
            position.cost += new * line.price
            position.entries.append(Entry(line.day, new, line.price))
    elif kind in PER_SHARE_INCOME:
        net = position.quantity * line.price * (1 - line.ratio)
        if net:
            position.income += net
            position.entries.append(Entry(line.day, ZERO, ZERO, money_out=net, income=net))
    elif kind == Kind.INCOME:
        net = line.amount - line.tax
        position.income += net
        position.entries.append(Entry(line.day, ZERO, ZERO, money_out=net, income=net))


def held_on(lines: Sequence[Line], day: date) -> Decimal:
    """Shares held at the end of ``day`` (after that day's lines)."""
    return walk(lines, through=day).quantity
