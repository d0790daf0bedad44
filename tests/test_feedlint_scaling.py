"""The feed validator's work grows linearly with the items, problems included (calls counted, never timed).

Every build lints the whole feed: 10,000 items must cost ten times 1,000, not a hundred. Each
item here repeats the first one's guid and enclosure and has a bad duration, so that every
item's problems name another item, the path a quadratic lookup would take.
"""

from __future__ import annotations

from entretiens.feedlint import lint_feed
from test_feedlint import CHANNEL, HEAD, ITEM, NOW
from test_scaling import BOUND, calls


def _feed(count: int) -> bytes:
    item = "<item>\n" + ITEM.replace("LENGTH", "12345").replace("DURATION", "soon") + "</item>\n"
    return (HEAD + "<channel>\n" + CHANNEL + item * count + "</channel>\n</rss>\n").encode()


def test_linting_a_feed_is_linear_in_its_items() -> None:
    small, large = _feed(100), _feed(400)
    problems = lint_feed(large, now=NOW)
    repeated = {p.rule for p in problems if p.line and p.line > 100 * ITEM.count("\n")}
    assert {"rss.guid.duplicate", "apple.enclosure.duplicate", "apple.duration.invalid"} <= repeated
    assert len(problems) >= 3 * 399
    cost_small = calls(lambda: lint_feed(small, now=NOW))
    cost_large = calls(lambda: lint_feed(large, now=NOW))
    assert cost_large <= BOUND * cost_small, (cost_small, cost_large)
