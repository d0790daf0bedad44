"""slotmaker.maker: the constructor the caches rebuild values with makes what the class makes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from entretiens.model import (
    AudioInfo,
    Chapter,
    EmbeddedChapter,
    Episode,
    Link,
    Person,
    Release,
    Soundbite,
    Source,
    Transcript,
)
from entretiens.slotmaker import maker

_CLASSES = [Episode, Person, Link, Chapter, Soundbite, Transcript, Source, AudioInfo, EmbeddedChapter, Release]


def _values(cls: type) -> dict[str, object]:
    """A distinct value for every field (an object of its own each), so that a field set at
    another's place shows."""
    return {item.name: object() for item in dataclasses.fields(cls)}


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda cls: cls.__name__)
def test_a_maker_makes_what_the_class_makes(cls: type) -> None:
    values = _values(cls)
    made: object = maker(cls)(*values.values())
    expected = cls(**values)
    assert type(made) is cls
    for name, value in values.items():
        assert getattr(made, name) is value, name
    assert made == expected and hash(made) == hash(expected) and repr(made) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(next(iter(values)), None)
    assert not hasattr(made, "__dict__")


def test_a_maker_takes_every_field_and_no_other() -> None:
    make = maker(Source)
    assert make(Path("a.yaml"), 3) == Source(path=Path("a.yaml"), line=3)
    with pytest.raises(TypeError):
        make(Path("a.yaml"))
    with pytest.raises(TypeError):
        make(Path("a.yaml"), 3, 4)


def test_real_values_made_by_a_maker_compare_as_the_class_makes_them() -> None:
    info = {
        "size": 1,
        "duration": timedelta(seconds=2),
        "mime_type": "audio/mpeg",
        "codec": "MP3",
        "bitrate": None,
        "sample_rate": 44100,
        "channels": 2,
        "duration_method": "header",
        "announced": None,
        "trailing": 0,
        "tags": (("title", "T"),),
        "chapters": (EmbeddedChapter(start=0.0, title="A", url=None),),
    }
    assert maker(AudioInfo)(*info.values()) == AudioInfo(**info)  # type: ignore[arg-type]


@dataclasses.dataclass(slots=True)
class _Mutable:
    value: int


@dataclasses.dataclass(frozen=True)
class _WithDict:
    value: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


@dataclasses.dataclass(frozen=True, slots=True)
class _Computed:
    value: int
    twice: int = dataclasses.field(init=False, default=0)


@pytest.mark.parametrize("cls", [_Mutable, _WithDict, _Checked, _Computed, int])
def test_a_maker_is_refused_for_a_class_whose_init_does_more(cls: type) -> None:
    # A __post_init__ or a field left out of __init__ would be skipped: refused, not made.
    with pytest.raises(TypeError):
        maker(cls)


@dataclasses.dataclass(frozen=True, slots=True)
class _Slotted:
    value: int


def test_a_maker_is_refused_for_a_class_whose_slots_are_not_its_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    # The value is made as a class with the same slots, then given its own: its slots must be its fields.
    assert maker(_Slotted)(3) == _Slotted(3)
    monkeypatch.setattr(_Slotted, "__slots__", ("value", "other"))
    with pytest.raises(TypeError, match="slots"):
        maker(_Slotted)
