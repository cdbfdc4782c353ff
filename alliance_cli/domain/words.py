"""Counts in words: the one place that knows "1 goal" but "2 goals"."""

from __future__ import annotations


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`count` with its noun in the right number: `1 review`, `0 reviews`, `2 rating sets`.

    `many` is the plural when it is not the singular plus "s" (`1 day ago` needs none)."""
    if count == 1:
        return f"{count} {singular}"
    return f"{count} {many if many is not None else singular + 's'}"
