"""Asset classes as Brazilian advisors show allocation: the rules, pure and in one place.

An asset's class is derived from what market data stored about it (``assets.symbol``,
``assets.name`` and ``assets.asset_type``: Yahoo's ``typeDisp``/``quoteType`` as the search
gave it, e.g. ``Equity``, ``ETF``, ``Cryptocurrency``, ``MONEYMARKET``; the demo catalogue
also says ``FII``). An admin may correct it (``assets.asset_class``, migration 0010); the
correction wins over the rules (:func:`effective_class`). The rules, first match wins:

1. An exchange-rate series or an index (type ``Currency`` / ``Index``, a symbol like
   ``USDBRL=X`` or ``^BVSP``) has no class: it is never held and never in an allocation.
2. Type ``Cryptocurrency``, or a symbol like ``BTC-USD`` → ``cripto``.
3. A B3 listing (``.SA``) typed ``ETF``, or named "Fundo de Índice" → ``etfs``
   (BOVA11.SA, IVVB11.SA; an ETF of fixed income stays an ETF).
4. A B3 listing typed ``FII`` or named as a real-estate fund ("FII", "Fundo de
   Investimento Imobiliário", Yahoo's short "FDO INV IMOB") → ``fiis`` (MXRF11.SA,
   HGLG11.SA).
5. Type ``MONEYMARKET`` or ``Bond``, or a name that says Tesouro, CDB, LCI, LCA,
   debênture or "renda fixa" → ``renda_fixa`` (on B3 or abroad).
6. A B3 listing whose code ends in 32, 33, 34, 35 or 39 → ``bdrs`` (AAPL34.SA).
7. Any other B3 listing → ``acoes`` (PETR4.SA, VALE3.SA; units such as TAEE11.SA).
8. Anything else (outside B3: AAPL, NVDA, VOO) → ``exterior``.

See docs/asset_classes.md.
"""

from __future__ import annotations

import re
import unicodedata

ACOES = "acoes"
FIIS = "fiis"
ETFS = "etfs"
BDRS = "bdrs"
EXTERIOR = "exterior"
CRIPTO = "cripto"
RENDA_FIXA = "renda_fixa"

# The stable codes, in the order a table lists them (labels: i18n ``asset_class.<code>``).
CLASSES: tuple[str, ...] = (ACOES, FIIS, ETFS, BDRS, EXTERIOR, CRIPTO, RENDA_FIXA)

B3_SUFFIX = ".SA"
NO_CLASS_TYPES = frozenset({"CURRENCY", "INDEX"})
CRYPTO_TYPES = frozenset({"CRYPTOCURRENCY", "CRYPTO"})
FIXED_INCOME_TYPES = frozenset({"MONEYMARKET", "BOND"})
ETF_TYPES = frozenset({"ETF"})
FII_TYPES = frozenset({"FII"})

_CRYPTO_SYMBOL = re.compile(r"^[A-Z0-9]{2,10}-(USD|USDT|BRL|EUR|BTC|ETH)$")
_BDR_CODE = re.compile(r"^[A-Z0-9]{4}(32|33|34|35|39)$")
# Matched against the name folded to lower case without accents.
_FII_NAME = re.compile(
    r"\bfii\b|fundo\s+de\s+investimento\s+imobiliario|fundo\s+imobiliario|fdo\.?\s+inv\.?\s+imob"
)
_ETF_NAME = re.compile(r"fundo\s+de\s+indice|\betf\b")
_FIXED_INCOME_NAME = re.compile(r"\btesouro\b|\bcdb\b|\blci\b|\blca\b|\bdebenture|renda\s+fixa")


def _fold(text: str | None) -> str:
    """Lower case without accents: "Imobiliário" and "IMOBILIARIO" read alike."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _type_key(asset_type: str | None) -> str:
    """Yahoo's type in one spelling: "Money Market", "MONEYMARKET" → ``MONEYMARKET``."""
    return re.sub(r"[\s_-]", "", asset_type or "").upper()


def is_rate_or_index(symbol: str, asset_type: str | None) -> bool:
    """True for an exchange-rate series or an index: they have no class."""
    return (
        _type_key(asset_type) in NO_CLASS_TYPES or symbol.endswith("=X") or symbol.startswith("^")
    )


def derive_class(symbol: str, name: str | None, asset_type: str | None) -> str | None:
    """The class the rules above give an asset (None for a rate series or an index)."""
    symbol = symbol.strip().upper()
    kind = _type_key(asset_type)
    folded = _fold(name)
    if is_rate_or_index(symbol, asset_type):
        return None
    if kind in CRYPTO_TYPES or _CRYPTO_SYMBOL.match(symbol):
        return CRIPTO
    fixed_income = kind in FIXED_INCOME_TYPES or bool(_FIXED_INCOME_NAME.search(folded))
    if not symbol.endswith(B3_SUFFIX):
        return RENDA_FIXA if fixed_income else EXTERIOR
    if kind in ETF_TYPES or _ETF_NAME.search(folded):
        return ETFS
    if kind in FII_TYPES or _FII_NAME.search(folded):
        return FIIS
    if fixed_income:
        return RENDA_FIXA
    if _BDR_CODE.match(symbol.removesuffix(B3_SUFFIX)):
        return BDRS
    return ACOES


def effective_class(
    symbol: str, name: str | None, asset_type: str | None, correction: str | None
) -> str | None:
    """The admin's correction when there is one, else the derived class; a rate series or
    an index has none either way."""
    if is_rate_or_index(symbol, asset_type):
        return None
    return correction or derive_class(symbol, name, asset_type)
