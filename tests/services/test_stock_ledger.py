"""The stock ledger primitive (app.services.catalog.stock) on the real database: guarded changes, all or
nothing, merged lines, untracked products, precision, negative stock, alerts once per crossing,
and 80 concurrent takes against 50 units on separate connections."""

import asyncio
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from app.core.errors import AppError
from app.core.runtime import Runtime
from app.models.base import new_id
from app.models.catalog.product import Product
from app.models.catalog.stock import StockAlert, StockLevel, StockMovement
from app.services.catalog import inventory_settings, stock
from app.services.catalog.stock import DocumentRef, InsufficientStock, StockLine
from app.services.platform.demo_data import add_opening_stock
from tests.api.v1.invoicing import make_company
from tests.factories import make_tenant

D = Decimal


@pytest.fixture
def rt(app) -> Runtime:
    return app.state.runtime


class Shop:
    """A tenant with one company, and a way to run ledger calls in their own transaction."""

    def __init__(self, rt: Runtime, tenant_id: str, company_id: str) -> None:
        self.rt, self.tenant_id, self.company_id = rt, uuid.UUID(tenant_id), uuid.UUID(company_id)

    async def product(
        self, *, unit: str = "NOS", track_stock: bool = True, reorder_level: str | None = None
    ) -> uuid.UUID:
        async with self.rt.db.transaction(self.tenant_id) as session:
            product = Product(
                tenant_id=self.tenant_id,
                name=f"Item {uuid.uuid4().hex[:6]}",
                sku=uuid.uuid4().hex[:12],
                hsn_code="1006",
                unit=unit,
                sale_price=D("10"),
                gst_rate=D("5"),
                track_stock=track_stock,
                reorder_level=D(reorder_level) if reorder_level is not None else None,
            )
            session.add(product)
            await session.flush()
            return product.id

    async def call(self, operation: str, *lines: StockLine, kind: str | None = None) -> list[StockMovement]:
        async with self.rt.db.transaction(self.tenant_id) as session:
            ctx = self.rt.context(tenant_id=self.tenant_id)
            function = getattr(stock, operation)
            extra = {"kind": kind} if kind else {}
            return await function(
                session,
                ctx,
                company_id=self.company_id,
                lines=list(lines),
                document=DocumentRef("stock_document", new_id()),
                **extra,
            )

    async def put(self, product_id: uuid.UUID, quantity: str, kind: str = "receipt") -> list[StockMovement]:
        return await self.call("put", StockLine(product_id, D(quantity)), kind=kind)

    async def take(self, *lines: StockLine) -> list[StockMovement]:
        return await self.call("take", *lines)

    async def level(self, product_id: uuid.UUID) -> tuple[Decimal, Decimal, Decimal] | None:
        async with self.rt.db.transaction(self.tenant_id) as session:
            row = (
                await session.execute(
                    select(StockLevel).where(
                        StockLevel.product_id == product_id, StockLevel.company_id == self.company_id
                    )
                )
            ).scalar_one_or_none()
            return None if row is None else (row.on_hand, row.reserved, row.available)

    async def movements(self, product_id: uuid.UUID) -> list[StockMovement]:
        async with self.rt.db.transaction(self.tenant_id) as session:
            stmt = select(StockMovement).where(StockMovement.product_id == product_id).order_by(StockMovement.id)
            return list((await session.execute(stmt)).scalars())

    async def alerts(self, product_id: uuid.UUID) -> list[StockAlert]:
        async with self.rt.db.transaction(self.tenant_id) as session:
            stmt = select(StockAlert).where(StockAlert.product_id == product_id).order_by(StockAlert.opened_at)
            return list((await session.execute(stmt)).scalars())

    async def allow_negative(self, allowed: bool) -> None:
        async with self.rt.db.transaction(self.tenant_id) as session:
            await inventory_settings.update(session, allow_negative_stock=allowed)

    async def check_ledger(self, product_id: uuid.UUID) -> None:
        """Σ changes = the level, and each movement's levels after it chain from the one before."""
        level = await self.level(product_id)
        moves = await self.movements(product_id)
        on_hand = reserved = D(0)
        for move in moves:
            on_hand += move.on_hand_change
            reserved += move.reserved_change
            assert (move.on_hand_after, move.reserved_after) == (on_hand, reserved)
        assert level is not None and (level[0], level[1]) == (on_hand, reserved)


@pytest.fixture
async def shop(rt, client) -> Shop:
    owner = await make_tenant(client)
    company = await make_company(client, owner)
    return Shop(rt, owner.tenant_id, company["id"])


async def test_put_creates_the_level_and_take_lowers_it(shop):
    item = await shop.product()
    [receipt] = await shop.put(item, "10")
    assert (receipt.on_hand_change, receipt.on_hand_after, receipt.kind) == (D(10), D(10), "receipt")
    [sale] = await shop.take(StockLine(item, D(3)))
    assert (sale.on_hand_change, sale.on_hand_after, sale.kind) == (D(-3), D(7), "sale")
    assert await shop.level(item) == (D(7), D(0), D(7))
    await shop.check_ledger(item)


async def test_a_short_line_refuses_the_whole_document_and_names_every_short_line(shop):
    a, b, c, d = [await shop.product() for _ in range(4)]
    for product in (a, b, c, d):
        await shop.put(product, "5")
    await shop.take(StockLine(b, D(3)))
    with pytest.raises(InsufficientStock) as raised:
        await shop.take(StockLine(a, D(2), 1), StockLine(b, D(4), 2), StockLine(c, D(1), 3), StockLine(d, D(9), 4))
    assert raised.value.status == 409 and raised.value.code == "insufficient-stock"
    assert raised.value.extra["lines"] == [
        {"position": 2, "product_id": str(b), "requested": "4", "available": "2"},
        {"position": 4, "product_id": str(d), "requested": "9", "available": "5"},
    ]
    assert [await shop.level(p) for p in (a, b, c, d)] == [
        (D(5), D(0), D(5)),
        (D(2), D(0), D(2)),
        (D(5), D(0), D(5)),
        (D(5), D(0), D(5)),
    ]
    assert [len(await shop.movements(p)) for p in (a, b, c, d)] == [1, 2, 1, 1]


async def test_a_caught_refusal_leaves_the_levels_as_they_were_in_the_same_transaction(shop):
    a, b = await shop.product(), await shop.product()
    await shop.put(a, "5")
    async with shop.rt.db.transaction(shop.tenant_id) as session:
        ctx = shop.rt.context(tenant_id=shop.tenant_id)
        with pytest.raises(InsufficientStock):
            await stock.take(
                session,
                ctx,
                company_id=shop.company_id,
                lines=[StockLine(a, D(2), 1), StockLine(b, D(1), 2)],
                document=DocumentRef("invoice", new_id()),
            )
    assert await shop.level(a) == (D(5), D(0), D(5))
    await shop.check_ledger(a)


async def test_lines_of_one_product_are_merged_and_untracked_products_skipped(shop):
    item, service = await shop.product(), await shop.product(track_stock=False)
    await shop.put(item, "5")
    with pytest.raises(InsufficientStock) as raised:
        await shop.take(StockLine(item, D(3), 1), StockLine(service, D(100), 2), StockLine(item, D(3), 3))
    assert raised.value.extra["lines"] == [{"position": 1, "product_id": str(item), "requested": "6", "available": "5"}]
    [move] = await shop.take(StockLine(item, D(2), 1), StockLine(service, D(100), 2), StockLine(item, D(3), 3))
    assert (move.on_hand_change, move.on_hand_after) == (D(-5), D(0))
    assert await shop.level(service) is None


@pytest.mark.parametrize(
    ("unit", "quantity", "code"),
    [
        ("NOS", "1.5", "quantity-too-precise"),
        ("KGS", "0.0005", "quantity-too-precise"),
        ("NOS", "0", "quantity-not-positive"),
        ("KGS", "-1", "quantity-not-positive"),
    ],
)
async def test_a_quantity_the_unit_does_not_allow_is_refused(shop, unit, quantity, code):
    item = await shop.product(unit=unit)
    with pytest.raises(AppError) as raised:
        await shop.put(item, quantity)
    assert (raised.value.status, raised.value.code) == (400, code)
    assert raised.value.extra["errors"][0]["loc"] == ["body", "lines.0.quantity"]
    assert await shop.level(item) is None


async def test_three_decimals_for_a_measure(shop):
    rice = await shop.product(unit="KGS")
    await shop.put(rice, "2.5")
    [move] = await shop.take(StockLine(rice, D("0.125")))
    assert move.on_hand_after == D("2.375")


async def test_negative_stock_when_the_tenant_allows_it(shop):
    known, new = await shop.product(), await shop.product()
    await shop.put(known, "1")
    await shop.allow_negative(True)
    await shop.take(StockLine(known, D(3)))
    await shop.take(StockLine(new, D(2)))
    assert await shop.level(known) == (D(-2), D(0), D(-2))
    assert await shop.level(new) == (D(-2), D(0), D(-2))
    await shop.check_ledger(new)
    with pytest.raises(AppError) as raised:
        await shop.allow_negative(False)
    assert (raised.value.status, raised.value.code) == (409, "negative-stock-exists")
    assert {level["product_id"] for level in raised.value.extra["levels"]} == {str(known), str(new)}
    await shop.put(known, "2")
    await shop.put(new, "2")
    await shop.allow_negative(False)
    with pytest.raises(InsufficientStock):
        await shop.take(StockLine(new, D(1)))


async def test_a_product_never_stocked_is_short_with_nothing_available(shop):
    item = await shop.product()
    with pytest.raises(InsufficientStock) as raised:
        await shop.take(StockLine(item, D(1), 7))
    assert raised.value.extra["lines"] == [{"position": 7, "product_id": str(item), "requested": "1", "available": "0"}]
    assert await shop.level(item) is None


async def test_reserve_and_release(shop):
    item = await shop.product()
    await shop.put(item, "5")
    await shop.call("reserve", StockLine(item, D(4)))
    assert await shop.level(item) == (D(5), D(4), D(1))
    with pytest.raises(InsufficientStock):
        await shop.take(StockLine(item, D(2)))
    with pytest.raises(InsufficientStock) as raised:
        await shop.call("release", StockLine(item, D(5), 1))
    assert raised.value.extra["lines"][0]["available"] == "4"
    await shop.call("release", StockLine(item, D(4)))
    assert await shop.level(item) == (D(5), D(0), D(5))
    await shop.check_ledger(item)


async def test_take_reserved_sells_what_was_set_aside(shop):
    item, other = await shop.product(), await shop.product()
    await shop.put(item, "5")
    await shop.put(other, "2")
    await shop.call("reserve", StockLine(item, D(3)), StockLine(other, D(1)))
    assert await shop.level(item) == (D(5), D(3), D(2))
    # more than is reserved of one line: nothing moves (the other line's change is put back), and
    # the short line says what is reserved
    with pytest.raises(InsufficientStock) as raised:
        await shop.call("take_reserved", StockLine(item, D(3), 1), StockLine(other, D(2), 2))
    assert raised.value.extra["lines"] == [
        {"position": 2, "product_id": str(other), "requested": "2", "available": "1"}
    ]
    assert await shop.level(item) == (D(5), D(3), D(2)) and await shop.level(other) == (D(2), D(1), D(1))
    [sale, _] = sorted(
        await shop.call("take_reserved", StockLine(item, D(3), 1), StockLine(other, D(1), 2)),
        key=lambda m: m.product_id != item,
    )
    assert (sale.kind, sale.on_hand_change, sale.reserved_change) == ("sale", D(-3), D(-3))
    assert (sale.on_hand_after, sale.reserved_after) == (D(2), D(0))
    # available never moved: the reservation had taken it
    assert await shop.level(item) == (D(2), D(0), D(2)) and await shop.level(other) == (D(1), D(0), D(1))
    with pytest.raises(InsufficientStock):  # nothing is reserved any more
        await shop.call("take_reserved", StockLine(item, D(1)))
    await shop.check_ledger(item)
    await shop.check_ledger(other)


async def test_take_reserved_and_release_move_a_product_untracked_since(shop):
    item = await shop.product()
    await shop.put(item, "4")
    await shop.call("reserve", StockLine(item, D(2)))
    await shop.call("reserve", StockLine(item, D(1)))
    async with shop.rt.db.transaction(shop.tenant_id) as session:
        await session.execute(text("UPDATE products SET track_stock = false WHERE id = :id"), {"id": item})
    assert await shop.call("release", StockLine(item, D(1))) == []  # skipped by default
    async with shop.rt.db.transaction(shop.tenant_id) as session:
        moved = await stock.release(
            session,
            shop.rt.context(tenant_id=shop.tenant_id),
            company_id=shop.company_id,
            lines=[StockLine(item, D(1))],
            document=DocumentRef("order", new_id()),
            untracked_too=True,
        )
    assert [m.reserved_change for m in moved] == [D(-1)]
    await shop.call("take_reserved", StockLine(item, D(2)))
    assert await shop.level(item) == (D(2), D(0), D(2))
    await shop.check_ledger(item)


async def test_a_low_stock_alert_opens_once_per_crossing_and_re_arms(shop):
    item = await shop.product(reorder_level="3")
    await shop.put(item, "10")
    assert await shop.alerts(item) == []
    await shop.take(StockLine(item, D(7)))  # 3: at the level
    await shop.take(StockLine(item, D(1)))  # 2: still low, no second alert
    [alert] = await shop.alerts(item)
    assert (alert.available_at_open, alert.reorder_level, alert.closed_at) == (D(3), D(3), None)
    await shop.put(item, "5")  # 7: above, closed
    await shop.take(StockLine(item, D(5)))  # 2: a new crossing
    first, second = await shop.alerts(item)
    assert first.closed_at is not None and second.closed_at is None and second.available_at_open == D(2)


async def test_no_reorder_level_never_alerts(shop):
    item = await shop.product()
    await shop.put(item, "1")
    await shop.take(StockLine(item, D(1)))
    assert await shop.alerts(item) == []


async def test_eighty_concurrent_takes_against_fifty_units(shop):
    item = await shop.product()
    await shop.put(item, "50")

    async def one() -> bool:
        try:
            await shop.take(StockLine(item, D(1)))
        except InsufficientStock:
            return False
        return True

    outcomes = await asyncio.gather(*(one() for _ in range(80)))
    assert outcomes.count(True) == 50
    assert await shop.level(item) == (D(0), D(0), D(0))
    await shop.check_ledger(item)
    async with shop.rt.db.transaction(shop.tenant_id) as session:
        count = select(func.count()).select_from(StockMovement).where(StockMovement.kind == "sale")
        assert (await session.execute(count)).scalar_one() == 50


async def test_concurrent_documents_over_the_same_products_in_any_order_do_not_deadlock(shop):
    products = [await shop.product() for _ in range(4)]
    for product in products:
        await shop.put(product, "100")

    async def document(order: list[uuid.UUID]) -> None:
        await shop.take(*(StockLine(p, D(1), i) for i, p in enumerate(order)))

    orders = [products if i % 2 else list(reversed(products)) for i in range(30)]
    await asyncio.gather(*(document(order) for order in orders))
    for product in products:
        assert await shop.level(product) == (D(70), D(0), D(70))
        await shop.check_ledger(product)


async def test_a_changed_reorder_level_opens_and_closes_alerts(shop):
    item = await shop.product(reorder_level="2")
    await shop.put(item, "5")
    assert await shop.alerts(item) == []

    async def set_level(level: str | None) -> None:
        async with shop.rt.db.transaction(shop.tenant_id) as session:
            product = await session.get(Product, (shop.tenant_id, item))
            product.reorder_level = D(level) if level is not None else None
            await session.flush()
            await stock.refresh_alerts(session, shop.rt.context(tenant_id=shop.tenant_id), item)

    await set_level("5")
    [alert] = await shop.alerts(item)
    assert (alert.available_at_open, alert.reorder_level, alert.closed_at) == (D(5), D(5), None)
    await set_level("6")  # still low: the same alert
    assert len(await shop.alerts(item)) == 1
    await set_level(None)
    [alert] = await shop.alerts(item)
    assert alert.closed_at is not None


async def test_demo_opening_stock_leaves_one_product_low(shop):
    low = await shop.product(reorder_level="4")
    other = await shop.product(reorder_level="2")
    plain = await shop.product()
    untracked = await shop.product(track_stock=False)
    async with shop.rt.db.transaction(shop.tenant_id) as session:
        await add_opening_stock(session, shop.rt.context(tenant_id=shop.tenant_id), shop.company_id)
    levels = {p: await shop.level(p) for p in (low, other, plain, untracked)}
    assert levels[untracked] is None and levels[plain] == (D(50), D(0), D(50))
    alerts = [await shop.alerts(p) for p in (low, other)]
    assert sorted(len(a) for a in alerts) == [0, 1]  # the first by name with a reorder level is at it
    [[alert]] = [a for a in alerts if a]
    assert alert.available_at_open == alert.reorder_level
    assert [m.kind for m in await shop.movements(plain)] == ["opening"]


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["put", "take", "reserve", "release"]), st.integers(min_value=1, max_value=6)),
    min_size=1,
    max_size=12,
)


@pytest.mark.parametrize("negative", [False, True])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
async def test_any_sequence_keeps_the_ledger_true(shop, negative, operations):
    """Whatever is applied, refused or not: Σ changes = the level, each movement's levels after it
    chain from the previous one, on_hand and reserved match a model of the rules, and without
    negative stock nothing goes below zero. (One tenant per `negative`, a product per example.)"""
    if negative:
        await shop.allow_negative(True)
    item = await shop.product()
    on_hand = reserved = D(0)
    for operation, quantity in operations:
        q = D(quantity)
        after = {
            "put": (on_hand + q, reserved),
            "take": (on_hand - q, reserved),
            "reserve": (on_hand, reserved + q),
            "release": (on_hand, reserved - q),
        }[operation]
        allowed = after[1] >= 0 and (negative or after[0] - after[1] >= 0 or operation in ("put", "release"))
        try:
            await shop.call(operation, StockLine(item, q), kind="receipt" if operation == "put" else None)
        except InsufficientStock:
            assert not allowed, (operation, quantity, on_hand, reserved)
        else:
            assert allowed, (operation, quantity, on_hand, reserved)
            on_hand, reserved = after
    level = await shop.level(item)
    if level is None:
        assert (on_hand, reserved) == (0, 0)
        return
    assert (level[0], level[1]) == (on_hand, reserved)
    await shop.check_ledger(item)
    if not negative:
        assert on_hand >= 0 and 0 <= reserved <= on_hand


async def _wait_for_lock_waiter(shop: Shop, *, required: bool = True) -> None:
    """Until some backend waits on a lock (the second document queued on the level row); with
    `required` false, at most 2 s (code that does not wait at all is then judged by its outcome)."""
    for _ in range(40):
        async with shop.rt.db.transaction(shop.tenant_id) as session:
            waiting = await session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))
        if waiting:
            return
        await asyncio.sleep(0.05)
    if required:
        raise AssertionError("the second document never waited for the level's lock")


async def test_a_receipt_queued_behind_the_sale_that_opened_an_alert_closes_it(shop):
    """The sale takes the level to its reorder level (alert opened) while a receipt waits for the
    level's row lock; once the sale commits, the receipt lifts stock above the level: the alert the
    sale opened must be closed, though it was not committed when the receipt's statement began."""
    item = await shop.product(reorder_level="5")
    await shop.put(item, "10")
    ctx = shop.rt.context(tenant_id=shop.tenant_id)
    async with shop.rt.db.transaction(shop.tenant_id) as session:
        await stock.take(
            session,
            ctx,
            company_id=shop.company_id,
            lines=[StockLine(item, D(6))],
            document=DocumentRef("invoice", new_id()),
        )
        receipt = asyncio.create_task(shop.put(item, "10"))
        await _wait_for_lock_waiter(shop)
    await receipt
    assert await shop.level(item) == (D(14), D(0), D(14))
    [alert] = await shop.alerts(item)
    assert alert.closed_at is not None, "stock is 14 above a reorder level of 5, yet the alert stays open"
    await shop.check_ledger(item)


async def test_a_reorder_level_removed_while_a_sale_opens_an_alert_closes_that_alert(shop):
    """The catalogue removes the reorder level while a sale that took stock below it holds the
    level's lock: once the sale commits, its alert must be closed by the refresh waiting behind it."""
    item = await shop.product(reorder_level="5")
    await shop.put(item, "10")
    ctx = shop.rt.context(tenant_id=shop.tenant_id)

    async def remove_level() -> None:
        async with shop.rt.db.transaction(shop.tenant_id) as session:
            product = await session.get(Product, (shop.tenant_id, item))
            product.reorder_level = None
            await session.flush()
            await stock.refresh_alerts(session, shop.rt.context(tenant_id=shop.tenant_id), item)

    async with shop.rt.db.transaction(shop.tenant_id) as session:
        await stock.take(
            session,
            ctx,
            company_id=shop.company_id,
            lines=[StockLine(item, D(6))],
            document=DocumentRef("invoice", new_id()),
        )
        refresh = asyncio.create_task(remove_level())
        await _wait_for_lock_waiter(shop, required=False)
    await refresh
    [alert] = await shop.alerts(item)
    assert alert.closed_at is not None, "the product has no reorder level any more, yet its alert stays open"


async def test_a_sale_queued_behind_the_receipt_that_closed_an_alert_opens_a_new_one(shop):
    """The other way round: the receipt closes the open alert while a sale waits for the level;
    once it commits, the sale takes stock back to the level: a new crossing, a new alert."""
    item = await shop.product(reorder_level="5")
    await shop.put(item, "4")  # opened
    ctx = shop.rt.context(tenant_id=shop.tenant_id)
    async with shop.rt.db.transaction(shop.tenant_id) as session:
        await stock.put(
            session,
            ctx,
            company_id=shop.company_id,
            lines=[StockLine(item, D(6))],
            kind="receipt",
            document=DocumentRef("stock_document", new_id()),
        )
        sale = asyncio.create_task(shop.take(StockLine(item, D(6))))
        await _wait_for_lock_waiter(shop)
    await sale
    first, second = await shop.alerts(item)
    assert first.closed_at is not None and second.closed_at is None and second.available_at_open == D(4)
    await shop.check_ledger(item)
