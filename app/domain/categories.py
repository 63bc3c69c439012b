"""The product category tree's rules: at most MAX_CATEGORY_DEPTH levels, never a cycle."""

from app.domain.errors import RuleBroken

MAX_CATEGORY_DEPTH = 3


def check_depth(depth: int) -> None:
    """A category (or the deepest of a sub-tree being moved) landing at `depth` (1 = top level)."""
    if depth > MAX_CATEGORY_DEPTH:
        raise RuleBroken(
            "parent_id",
            f"Categories nest at most {MAX_CATEGORY_DEPTH} levels deep; this would put one at level {depth}.",
            code="category-too-deep",
        )


def check_not_cycle(*, moves_under_itself: bool) -> None:
    if moves_under_itself:
        raise RuleBroken(
            "parent_id", "A category cannot move under itself or one of its sub-categories.", code="category-cycle"
        )
