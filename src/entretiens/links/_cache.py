"""Link results kept for a day in the show's cache folder, so that a second run is instant."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from entretiens.atomicfile import atomic_write
from entretiens.links._model import LinkResult

#: Outcomes that say something lasting about the page; timeouts, 429 and 5xx may change within minutes.
CACHEABLE = frozenset({"ok", "moved", "dead", "denied", "redirect-loop"})
#: One day, as the cache promises.
CACHE_MAX_AGE = 24 * 3600.0
#: Beside publish's probe cache, in the show folder.
CACHE_FILE = Path(".entretiens") / "cache" / "links.json"


class LinkCache:
    """Results of earlier runs, kept for a day in a JSON file of the show folder."""

    def __init__(self, path: Path, *, max_age: float = CACHE_MAX_AGE, now: Callable[[], float] = time.time) -> None:
        self.path = path
        self.max_age = max_age
        self.now = now
        self.entries: dict[str, dict[str, object]] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        # A damaged or foreign file is ignored: the cache only ever saves time.
        links = data.get("links") if isinstance(data, dict) and data.get("version") == 1 else None
        if isinstance(links, dict):
            self.entries = {str(url): entry for url, entry in links.items() if isinstance(entry, dict)}

    def get(self, url: str) -> LinkResult | None:
        """The cached result of a URL, if it is younger than a day."""
        entry = self.entries.get(url)
        if entry is None:
            return None
        checked = entry.get("checked_at")
        if not isinstance(checked, (int, float)) or not 0 <= self.now() - checked < self.max_age:
            return None
        try:
            result = LinkResult(**{k: v for k, v in entry.items() if k != "checked_at"})  # type: ignore[arg-type]
        except TypeError:
            return None
        if result.status not in CACHEABLE:
            return None
        return replace(result, cached=True, url=url)

    def put(self, result: LinkResult) -> None:
        """Remember a result, unless it may change within minutes (timeouts, 429, 5xx)."""
        if result.status in CACHEABLE:
            entry: dict[str, object] = asdict(result)
            del entry["cached"]
            entry["checked_at"] = self.now()
            self.entries[result.url] = entry

    def save(self) -> None:
        """Write the file atomically; entries older than a day are dropped."""
        now = self.now()
        kept = {
            url: entry
            for url, entry in sorted(self.entries.items())
            if isinstance(checked := entry.get("checked_at"), (int, float)) and now - checked < self.max_age
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.path) as temporary:
            text = json.dumps({"version": 1, "links": kept}, ensure_ascii=False, indent=1)
            temporary.write_text(text, encoding="utf-8")
