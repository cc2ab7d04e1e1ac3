"""Asset classes: each stored asset's class, and an admin's correction of it.

The class is derived by :mod:`core.market.asset_classes` from the stored market data each
time it is read; ``assets.asset_class`` holds only an admin's correction (NULL: derived),
so no stored copy has to follow the rules or the market data (docs/asset_classes.md). Any
role reads the classes; correcting or resetting one is an admin's write, audited (entity
``asset``, action ``update``, the correction and the effective class before and after).
A rate series or an index (``USDBRL=X``) has no class and cannot be given one.
"""

from __future__ import annotations

from pydantic import BaseModel

from core.db import UnitOfWork
from core.errors import NotFound, ValidationFailed
from core.market.asset_classes import CLASSES, derive_class, effective_class, is_rate_or_index
from core.models import Asset
from core.services.audit import audit_change
from core.services.principal import Principal, require_admin

ENTITY = "asset"
FIELD = "asset_class"


class AssetClassOut(BaseModel):
    """One asset's class as the Assets page shows it: derived, corrected, and in effect."""

    asset_id: int
    symbol: str
    name: str
    asset_type: str | None
    derived: str | None  # what the rules give
    correction: str | None  # the admin's, or None
    asset_class: str | None  # in effect: the correction, else the derived class


def class_of(asset: Asset) -> str | None:
    """The class in effect for ``asset`` (None for a rate series or an index)."""
    return effective_class(asset.symbol, asset.name, asset.asset_type, asset.asset_class)


def _out(asset: Asset) -> AssetClassOut:
    return AssetClassOut(
        asset_id=asset.id,
        symbol=asset.symbol,
        name=asset.name,
        asset_type=asset.asset_type,
        derived=derive_class(asset.symbol, asset.name, asset.asset_type),
        correction=asset.asset_class,
        asset_class=class_of(asset),
    )


def asset_classes(uow: UnitOfWork) -> list[AssetClassOut]:
    """Every stored asset that can have a class, by symbol (rate series and indices left
    out); any role may read."""
    with uow:
        return [
            _out(asset)
            for asset in uow.assets.all_by_symbol()
            if not is_rate_or_index(asset.symbol, asset.asset_type)
        ]


def correct_class(
    uow: UnitOfWork, actor: Principal, asset_id: int, asset_class: str | None
) -> AssetClassOut:
    """Set the asset's class to ``asset_class`` (one of :data:`CLASSES`), or with None go
    back to the derived class. Admins only; refused for a rate series or an index, and for
    a code that is not a class. Audited; a change to the same value writes nothing."""
    require_admin(actor)
    if asset_class is not None and asset_class not in CLASSES:
        raise ValidationFailed.single(FIELD, "validation.choice")
    with uow:
        asset = uow.assets.lock(asset_id)
        if asset is None:
            raise NotFound()
        if is_rate_or_index(asset.symbol, asset.asset_type):
            raise ValidationFailed.single(FIELD, "asset_class.no_class")
        before = _out(asset)
        if before.correction == asset_class:
            return before
        uow.assets.set_class(asset, asset_class)
        after = _out(asset)
        audit_change(
            uow,
            actor,
            "update",
            ENTITY,
            asset_id,
            {"symbol": before.symbol, "correction": before.correction, FIELD: before.asset_class},
            {"symbol": after.symbol, "correction": after.correction, FIELD: after.asset_class},
        )
        uow.commit()
        return after


def reset_class(uow: UnitOfWork, actor: Principal, asset_id: int) -> AssetClassOut:
    """Drop the admin's correction: the derived class applies again (admins only)."""
    return correct_class(uow, actor, asset_id, None)
