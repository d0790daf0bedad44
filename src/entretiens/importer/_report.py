"""What an import carried over, what it changed on the way, and what it could not carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

#: approx: carried over, but not exactly as it was; dropped: a field left behind; skipped: a
#: whole item left behind; note: information for the host.
Kind = Literal["approx", "dropped", "skipped", "note"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the report: where (the show or an item), which field, what happened."""

    kind: Kind
    #: "show", or the item as people recognise it: its title, or its GUID.
    where: str
    field: str
    message: str


@dataclass(slots=True)
class Report:
    """The whole account of an import, for the CLI to print and the tests to read."""

    folder: Path
    source: str
    #: The feed's URL after redirects, when it came from the network.
    feed_url: str | None = None
    title: str = ""
    imported: int = 0
    #: Episodes whose audio was downloaded into audio/.
    downloaded: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: Whether feed.yaml still holds the base_url placeholder.
    base_url_missing: bool = False

    def add(self, kind: Kind, where: str, field_name: str, message: str) -> None:
        """Record one finding."""
        self.findings.append(Finding(kind=kind, where=where, field=field_name, message=message))

    def of(self, kind: Kind) -> list[Finding]:
        """The findings of one kind, in the order met."""
        return [f for f in self.findings if f.kind == kind]

    @property
    def skipped(self) -> int:
        """Items of the feed that did not become episodes."""
        return len(self.of("skipped"))
