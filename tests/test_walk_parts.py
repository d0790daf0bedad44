"""Parts of walks.py: the recorded folders a walk of the output finds childless."""

from __future__ import annotations

from entretiens import walks


def test_the_childless_folders_of_a_record() -> None:
    names = [
        "feed.xml",
        "a/",
        "a/index.html",
        "a/b/",
        "a/b/c/",
        "x/",  # nothing in it
        "y/",
        "y/z",  # a one-letter name: its folder is still y/
        "deep/",
        "deep/er/",
        "deep/er/est/",
        "deep/er/est/f",
        "lone/",
        "lone/sub/",
    ]
    assert sorted(walks._childless(names)) == ["a/b/c/", "lone/sub/", "x/"]
    assert walks._childless(["top.html", "t"]) == []
    assert walks._childless([]) == []
