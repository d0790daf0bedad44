"""Editorial and technical checks over a loaded show and its measured audio (run by :mod:`entretiens.pipeline`)."""

from __future__ import annotations

from entretiens.checks._episodes import SCHEDULE_LIMIT, SUMMARY_LIMIT
from entretiens.checks._media import (
    ARTWORK_MAX_BYTES,
    HIGH_BITRATE,
    LOW_BITRATE,
    MAX_SAMPLE_RATE,
    MIN_DURATION,
    MIN_SAMPLE_RATE,
    Facts,
    KeptFacts,
    facts_from_json,
    facts_to_json,
)
from entretiens.checks._rules import (
    FEED_EPISODE_LIMIT,
    FEED_SIZE_LIMIT,
    EpisodeChecks,
    episode_checks,
    feed_problems,
    run_checks,
    show_checks,
    show_problems,
    start_checks,
)
from entretiens.checks._run import FEED_PATH, merge_feed_lint

__all__ = [
    "ARTWORK_MAX_BYTES",
    "FEED_EPISODE_LIMIT",
    "FEED_PATH",
    "FEED_SIZE_LIMIT",
    "HIGH_BITRATE",
    "LOW_BITRATE",
    "MAX_SAMPLE_RATE",
    "MIN_DURATION",
    "MIN_SAMPLE_RATE",
    "SCHEDULE_LIMIT",
    "SUMMARY_LIMIT",
    "EpisodeChecks",
    "Facts",
    "KeptFacts",
    "episode_checks",
    "facts_from_json",
    "facts_to_json",
    "feed_problems",
    "merge_feed_lint",
    "run_checks",
    "show_checks",
    "show_problems",
    "start_checks",
]
