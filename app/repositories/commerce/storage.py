"""Storage agreements, the customer goods they hold (a ledger of their own, apart from the shop's
stock levels), their movements and the rent periods billed."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.dialects.postgresql import insert

from app.models.catalog.product import Product
from app.models.commerce.storage import StorageAgreement, StorageHolding, StorageMovement, StorageRentPeriod
from app.repositories.base import TenantOwnedRepository, TenantRepository


@dataclass(frozen=True)
class AgreementFilters:
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    status: str | None = None


class StorageAgreementRepository(TenantRepository[StorageAgreement]):
    model = StorageAgreement

    async def list_page(
        self, filters: AgreementFilters, *, limit: int, cursor: str | None
    ) -> tuple[list[StorageAgreement], str | None]:
        """Newest first."""
        conditions: list[ColumnElement[bool]] = []
        if filters.customer_id is not None:
            conditions.append(StorageAgreement.customer_id == filters.customer_id)
        if filters.company_id is not None:
            conditions.append(StorageAgreement.company_id == filters.company_id)
        if filters.status is not None:
            conditions.append(StorageAgreement.status == filters.status)
        stmt = select(StorageAgreement).where(*conditions)
        return await self.page(stmt, limit=limit, cursor=cursor, descending=True)

    async def due(self, day: date) -> list[uuid.UUID]:
        """Agreements with a period to bill on or before `day` (oldest billing day first)."""
        stmt = (
            select(StorageAgreement.id)
            .where(StorageAgreement.next_bill_on.is_not(None), StorageAgreement.next_bill_on <= day)
            .order_by(StorageAgreement.next_bill_on, StorageAgreement.id)
        )
        return list((await self.session.execute(stmt)).scalars())


class StorageHoldingRepository(TenantOwnedRepository[StorageHolding]):
    model = StorageHolding

    async def of_agreement(self, agreement_id: uuid.UUID) -> list[tuple[StorageHolding, Product]]:
        """Every product the agreement has held, by product name."""
        stmt = (
            select(StorageHolding, Product)
            .join(Product, Product.id == StorageHolding.product_id)
            .where(StorageHolding.agreement_id == agreement_id)
            .order_by(Product.name_lower, Product.id)
        )
        return [(holding, product) for holding, product in (await self.session.execute(stmt)).all()]

    async def for_products(
        self, agreement_id: uuid.UUID, product_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, StorageHolding]:
        """The agreement's holdings of these products (the caller holds the agreement's row lock)."""
        stmt = select(StorageHolding).where(
            StorageHolding.agreement_id == agreement_id, StorageHolding.product_id.in_(list(product_ids))
        )
        return {h.product_id: h for h in (await self.session.execute(stmt)).scalars()}

    async def count(self, agreement_id: uuid.UUID) -> int:
        stmt = select(func.count()).select_from(StorageHolding).where(StorageHolding.agreement_id == agreement_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def held(self, agreement_id: uuid.UUID) -> list[tuple[uuid.UUID, Decimal]]:
        """(product, quantity) of what the agreement still holds."""
        stmt = (
            select(StorageHolding.product_id, StorageHolding.quantity)
            .where(StorageHolding.agreement_id == agreement_id, StorageHolding.quantity > 0)
            .order_by(StorageHolding.product_id)
        )
        return [(product_id, quantity) for product_id, quantity in (await self.session.execute(stmt)).all()]

    async def last_movement_on(self, agreement_id: uuid.UUID) -> date | None:
        stmt = select(func.max(StorageHolding.last_movement_on)).where(StorageHolding.agreement_id == agreement_id)
        return (await self.session.execute(stmt)).scalar_one()


class StorageMovementRepository(TenantRepository[StorageMovement]):
    model = StorageMovement

    async def list_page(
        self, agreement_id: uuid.UUID, product_id: uuid.UUID | None, *, limit: int, cursor: str | None
    ) -> tuple[list[StorageMovement], str | None]:
        """Newest first (ids are time-ordered: the order the holdings changed)."""
        stmt = select(StorageMovement).where(StorageMovement.agreement_id == agreement_id)
        if product_id is not None:
            stmt = stmt.where(StorageMovement.product_id == product_id)
        return await self.page(stmt, limit=limit, cursor=cursor, descending=True)

    async def changes(self, agreement_id: uuid.UUID, start: date, until: date) -> list[tuple[uuid.UUID, date, Decimal]]:
        """(product, day, signed change) of the agreement's movements before `until`, summed per
        product and day; every day before `start` is summed into `start` (the holding at the
        period's start), so that the rows are at most products x days of the period."""
        day = func.greatest(StorageMovement.movement_date, start)
        signed = func.sum(
            case((StorageMovement.kind == "receipt", StorageMovement.quantity), else_=-StorageMovement.quantity)
        )
        stmt = (
            select(StorageMovement.product_id, day, signed)
            .where(StorageMovement.agreement_id == agreement_id, StorageMovement.movement_date < until)
            .group_by(StorageMovement.product_id, day)
            .order_by(StorageMovement.product_id, day)
        )
        return [(product_id, d, change) for product_id, d, change in (await self.session.execute(stmt)).all()]


class StorageRentPeriodRepository(TenantOwnedRepository[StorageRentPeriod]):
    model = StorageRentPeriod

    async def claim(
        self, agreement_id: uuid.UUID, start: date, end: date, invoice_id: uuid.UUID | None, rent: Decimal
    ) -> bool:
        """Record the period as billed; False if it already was (the unique key backs the
        agreement's row lock: a period is billed once whatever runs race)."""
        stmt = (
            insert(StorageRentPeriod)
            .values(
                tenant_id=self.tenant_id,
                agreement_id=agreement_id,
                period_start=start,
                period_end=end,
                invoice_id=invoice_id,
                rent=rent,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "agreement_id", "period_start"])
            .returning(StorageRentPeriod.period_start)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def of_agreement(self, agreement_id: uuid.UUID) -> list[StorageRentPeriod]:
        """Newest first."""
        stmt = (
            select(StorageRentPeriod)
            .where(StorageRentPeriod.agreement_id == agreement_id)
            .order_by(StorageRentPeriod.period_start.desc())
        )
        return list((await self.session.execute(stmt)).scalars())
