"""The demo adapter's bundled catalogue: real B3 and US tickers with names and currencies.

``base`` is a plausible price level and ``vol`` an annualised volatility for the synthetic
series; ``since`` is the first trading day of the synthetic history. A few listings have
synthetic corporate events, demo data like everything else the demo adapter gives:
``splits`` (ex-date, shares after per share before) and a regular ``payout`` reported as
dividends (a B3 stock's quarterly dividend, an FII's monthly rendimento).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

QUARTERLY = (3, 6, 9, 12)
MONTHLY = tuple(range(1, 13))


@dataclass(frozen=True, slots=True)
class Payout:
    """A regular synthetic cash payout per share, reported as dividends.

    ``amount`` is what one share pays after every split of the listing; before a split a
    share pays ``amount`` times the split's ratio (as traded: a holder's income does not
    jump across the split). Paid on the first weekday on or after ``day`` of each month in
    ``months``, from the listing's first day on.
    """

    amount: Decimal
    months: tuple[int, ...]
    day: int = 1


@dataclass(frozen=True, slots=True)
class Listing:
    """One instrument the demo adapter knows."""

    symbol: str
    name: str
    exchange: str
    asset_type: str
    currency: str
    base: float
    vol: float
    since: date = date(2015, 1, 2)
    splits: tuple[tuple[date, Decimal], ...] = ()  # (ex-date on a weekday, ratio)
    payout: Payout | None = None


def _b3(symbol: str, name: str, base: float, vol: float = 0.30, kind: str = "Equity") -> Listing:
    return Listing(symbol, name, "São Paulo", kind, "BRL", base, vol)


def _us(symbol: str, name: str, exchange: str, base: float, vol: float = 0.28) -> Listing:
    return Listing(symbol, name, exchange, "Equity", "USD", base, vol)


CATALOGUE: tuple[Listing, ...] = (
    _b3("PETR4.SA", "Petróleo Brasileiro S.A. - Petrobras", 38.0, 0.35),
    _b3("PETR3.SA", "Petróleo Brasileiro S.A. - Petrobras", 41.0, 0.35),
    _b3("VALE3.SA", "Vale S.A.", 62.0, 0.30),
    _b3("ITUB4.SA", "Itaú Unibanco Holding S.A.", 36.0, 0.24),
    _b3("BBDC4.SA", "Banco Bradesco S.A.", 14.5, 0.28),
    _b3("BBAS3.SA", "Banco do Brasil S.A.", 27.0, 0.27),
    _b3("ABEV3.SA", "Ambev S.A.", 13.5, 0.20),
    replace(
        _b3("WEGE3.SA", "WEG S.A.", 44.0, 0.28),
        splits=((date(2025, 4, 14), Decimal(2)),),  # a 2-for-1 desdobramento, a Monday
        payout=Payout(Decimal("0.18"), QUARTERLY, 15),
    ),
    _b3("B3SA3.SA", "B3 S.A. - Brasil, Bolsa, Balcão", 13.0, 0.32),
    _b3("MGLU3.SA", "Magazine Luiza S.A.", 9.0, 0.60),
    _b3("RENT3.SA", "Localiza Rent a Car S.A.", 45.0, 0.35),
    _b3("SUZB3.SA", "Suzano S.A.", 57.0, 0.28),
    _b3("ELET3.SA", "Centrais Elétricas Brasileiras S.A. - Eletrobras", 43.0, 0.30),
    _b3("ITSA4.SA", "Itaúsa S.A.", 10.5, 0.22),
    _b3("RADL3.SA", "Raia Drogasil S.A.", 25.0, 0.27),
    _b3("EQTL3.SA", "Equatorial Energia S.A.", 32.0, 0.25),
    _b3("PRIO3.SA", "PRIO S.A.", 40.0, 0.40),
    _b3("GGBR4.SA", "Gerdau S.A.", 19.0, 0.32),
    _b3("BOVA11.SA", "iShares Ibovespa Fundo de Índice", 125.0, 0.20, "ETF"),
    _b3("IVVB11.SA", "iShares S&P 500 Fundo de Índice", 330.0, 0.18, "ETF"),
    _b3("SMAL11.SA", "iShares BM&FBovespa Small Cap Fundo de Índice", 105.0, 0.25, "ETF"),
    _b3("HGLG11.SA", "CSHG Logística Fundo de Investimento Imobiliário", 160.0, 0.12, "FII"),
    _b3("KNRI11.SA", "Kinea Renda Imobiliária FII", 150.0, 0.10, "FII"),
    replace(
        _b3("MXRF11.SA", "Maxi Renda Fundo de Investimento Imobiliário", 9.8, 0.10, "FII"),
        payout=Payout(Decimal("0.10"), MONTHLY, 1),  # the monthly rendimento
    ),
    _us("AAPL", "Apple Inc.", "NASDAQ", 230.0),
    _us("MSFT", "Microsoft Corporation", "NASDAQ", 420.0, 0.25),
    _us("GOOGL", "Alphabet Inc.", "NASDAQ", 170.0),
    _us("AMZN", "Amazon.com, Inc.", "NASDAQ", 190.0, 0.32),
    replace(
        _us("NVDA", "NVIDIA Corporation", "NASDAQ", 130.0, 0.50),
        splits=((date(2024, 6, 10), Decimal(10)),),  # 10-for-1, a Monday
    ),
    _us("META", "Meta Platforms, Inc.", "NASDAQ", 560.0, 0.38),
    _us("TSLA", "Tesla, Inc.", "NASDAQ", 250.0, 0.60),
    _us("JPM", "JPMorgan Chase & Co.", "NYSE", 210.0, 0.22),
    _us("KO", "The Coca-Cola Company", "NYSE", 65.0, 0.15),
    Listing("SPY", "SPDR S&P 500 ETF Trust", "NYSE Arca", "ETF", "USD", 560.0, 0.17),
    Listing("QQQ", "Invesco QQQ Trust", "NASDAQ", "ETF", "USD", 480.0, 0.22),
    Listing("BTC-USD", "Bitcoin USD", "CCC", "Cryptocurrency", "USD", 60000.0, 0.65),
    Listing("USDBRL=X", "USD/BRL", "CCY", "Currency", "BRL", 5.4, 0.14),
)

# Benchmark indices (docs/benchmarks.md), as Yahoo lists them. Not in the catalogue: nobody
# holds an index, searches do not offer it and the demo seed does not buy it; the demo
# benchmark source serves their synthetic closes with a demo adapter of its own.
INDICES: tuple[Listing, ...] = (
    Listing("^BVSP", "IBOVESPA", "São Paulo", "Index", "BRL", 130000.0, 0.22),
    Listing(
        "IFIX.SA",
        "Índice de Fundos de Investimentos Imobiliários",
        "São Paulo",
        "Index",
        "BRL",
        3300.0,
        0.10,
    ),
)

BY_SYMBOL: dict[str, Listing] = {listing.symbol: listing for listing in CATALOGUE}
