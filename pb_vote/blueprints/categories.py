"""Grouping a long ballot or results list by the proposals' categories, for the in-page
navigation of the ballot and results pages (one heading per category, with its count)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
# A short ballot reads best as one list: headings for three proposals would be noise.
GROUPED_FROM = 13


@dataclass
class Group(Generic[T]):
    """One category's ``entries``, in the order they came; ``anchor`` is its element id."""

    anchor: str
    name: str | None  # None: the proposals without a category
    entries: list[T] = field(default_factory=list)


def by_category(items: Iterable[T], category_of: Callable[[T], str | None],
                order: Iterable[str] = ()) -> list[Group[T]]:
    """``items`` in groups: the round's own categories first in their order (``order``),
    then any other category by name, the uncategorised last. Empty groups are left out;
    fewer than GROUPED_FROM items stay in one group."""
    items = list(items)
    if len(items) < GROUPED_FROM:
        return [Group("cat-1", None, items)]
    found: dict[str | None, list[T]] = {}
    for item in items:
        found.setdefault(category_of(item) or None, []).append(item)
    listed = [name for name in dict.fromkeys(order) if name in found]
    others = sorted(name for name in found if name is not None and name not in listed)
    names = listed + others + ([None] if None in found else [])
    return [Group(f"cat-{n}", name, found[name]) for n, name in enumerate(names, start=1)]
