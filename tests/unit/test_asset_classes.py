"""The asset-class rules on real tickers, as Yahoo (or the demo catalogue) stores them."""

from __future__ import annotations

import pytest

from core.market.asset_classes import CLASSES, derive_class, effective_class, is_rate_or_index
from core.market.catalogue import CATALOGUE


@pytest.mark.parametrize(
    ("symbol", "name", "asset_type", "expected"),
    [
        ("BOVA11.SA", "iShares Ibovespa Fundo de Índice", "ETF", "etfs"),
        ("IVVB11.SA", "iShares S&P 500 Fundo de Índice", "ETF", "etfs"),
        ("IMAB11.SA", "It Now IMA-B Fundo de Índice Renda Fixa", "ETF", "etfs"),
        ("MXRF11.SA", "Maxi Renda Fundo de Investimento Imobiliario - FII", "Equity", "fiis"),
        ("HGLG11.SA", "CSHG Logística Fundo de Investimento Imobiliário", "Equity", "fiis"),
        ("KNRI11.SA", "Kinea Renda Imobiliária FII", "FII", "fiis"),
        ("XPLG11.SA", "XP LOG FDO INV IMOB - FII", "Equity", "fiis"),
        ("AAPL34.SA", "Apple Inc.", "Equity", "bdrs"),
        ("MSFT34.SA", "Microsoft Corporation", "Equity", "bdrs"),
        ("PETR4.SA", "Petróleo Brasileiro S.A. - Petrobras", "Equity", "acoes"),
        ("VALE3.SA", "Vale S.A.", "Equity", "acoes"),
        ("TAEE11.SA", "Transmissora Aliança de Energia Elétrica S.A.", "Equity", "acoes"),
        ("SANB11.SA", "Banco Santander (Brasil) S.A.", "Equity", "acoes"),
        ("BTC-USD", "Bitcoin USD", "Cryptocurrency", "cripto"),
        ("ETH-BRL", "Ethereum BRL", None, "cripto"),
        ("VMFXX", "Vanguard Federal Money Market Fund", "MONEYMARKET", "renda_fixa"),
        ("SPAXX", "Fidelity Government Money Market", "Money Market", "renda_fixa"),
        ("AAPL", "Apple Inc.", "Equity", "exterior"),
        ("NVDA", "NVIDIA Corporation", "Equity", "exterior"),
        ("VOO", "Vanguard S&P 500 ETF", "ETF", "exterior"),
        ("BRK-B", "Berkshire Hathaway Inc.", "Equity", "exterior"),
        ("USDBRL=X", "USD/BRL", "Currency", None),
        ("^BVSP", "IBOVESPA", "Index", None),
        ("IFIX.SA", "Índice de Fundos de Investimentos Imobiliários", "Index", None),
    ],
)
def test_derive_class_on_real_tickers(
    symbol: str, name: str, asset_type: str | None, expected: str | None
) -> None:
    assert derive_class(symbol, name, asset_type) == expected


def test_a_b3_name_without_type_still_reads_as_a_fund() -> None:
    assert derive_class("MXRF11.SA", "MAXI RENDA FII", None) == "fiis"
    assert derive_class("petr4.sa", None, None) == "acoes"


def test_every_demo_listing_but_the_rate_has_a_class() -> None:
    derived = {x.symbol: derive_class(x.symbol, x.name, x.asset_type) for x in CATALOGUE}
    assert derived.pop("USDBRL=X") is None
    assert set(derived.values()) <= set(CLASSES)
    assert derived["MXRF11.SA"] == "fiis"
    assert derived["SPY"] == "exterior"


def test_the_correction_wins_but_a_rate_series_never_gets_a_class() -> None:
    assert effective_class("TAEE11.SA", "Taesa", "Equity", "renda_fixa") == "renda_fixa"
    assert effective_class("TAEE11.SA", "Taesa", "Equity", None) == "acoes"
    assert effective_class("USDBRL=X", "USD/BRL", "Currency", "acoes") is None
    assert is_rate_or_index("USDBRL=X", None)
