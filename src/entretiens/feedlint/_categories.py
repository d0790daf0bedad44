"""Checks of ``itunes:category``: Apple's exact names, nesting and depth (FEED_RULES §4)."""

from __future__ import annotations

import difflib

from lxml import etree

from entretiens.feedlint._context import Context, children, local, namespace
from entretiens.podcast_spec import APPLE_CATEGORIES, ITUNES_NS

_PARENT_OF = {sub: parent for parent, subs in APPLE_CATEGORIES.items() for sub in subs}


def check_category(ctx: Context, element: etree._Element, *, depth: int, parent: str | None = None) -> None:
    """Check one ``itunes:category`` and, below a known parent, its subcategories.

    :param ctx: the lint run.
    :param element: the category element.
    :param depth: 1 for a category, 2 for a subcategory.
    :param parent: the parent category's name, for a subcategory.
    """
    text = element.get("text")
    subs = [child for child in children(element) if namespace(child) == ITUNES_NS and local(child) == "category"]
    if depth > 2:
        ctx.report(
            element,
            "apple.category.depth",
            f'"{text}" is a third level of category; Apple has only categories and subcategories.',
            hint="keep one subcategory level",
        )
        return
    if text is None:
        ctx.report(element, "apple.category.invalid", "has no text attribute.", hint='write text="Technology"')
    elif parent is None and text not in APPLE_CATEGORIES:
        if text in _PARENT_OF:
            ctx.report(
                element,
                "apple.category.nesting",
                f'"{text}" is a subcategory; it must sit inside <itunes:category text="{_PARENT_OF[text]}">.',
                attribute="text",
                hint=f'nest it in "{_PARENT_OF[text]}"',
            )
        else:
            _report_unknown_category(ctx, element, text, list(APPLE_CATEGORIES))
    elif parent is not None and text not in APPLE_CATEGORIES[parent]:
        if text in _PARENT_OF:
            ctx.report(
                element,
                "apple.category.nesting",
                f'"{text}" is a subcategory of "{_PARENT_OF[text]}", not of "{parent}".',
                attribute="text",
                hint=f'nest it in "{_PARENT_OF[text]}"',
            )
        else:
            _report_unknown_category(ctx, element, text, list(APPLE_CATEGORIES[parent]))
    known = text if parent is None and text in APPLE_CATEGORIES else None
    for sub in subs:
        if known is None and depth == 1:
            continue
        check_category(ctx, sub, depth=depth + 1, parent=known)


def _report_unknown_category(ctx: Context, element: etree._Element, text: str, choices: list[str]) -> None:
    lowered = {choice.lower(): choice for choice in choices}
    close = lowered.get(text.lower()) or next(iter(difflib.get_close_matches(text, choices, n=1)), None)
    ctx.report(
        element,
        "apple.category.invalid",
        f'"{text}" is not one of Apple\'s categories here (names are exact and case-sensitive).',
        attribute="text",
        hint=f'did you mean "{close}"?' if close else "pick a category from Apple's list",
    )
