"""One constructor per model class for values read back from a checked cache.

The caches (the episodes', the audio measures') rebuild thousands of frozen dataclass values on
every build; the class's own ``__init__`` matches keywords and sets each field through
``object.__setattr__``. Apart from :mod:`entretiens.model`, which only says what the values are:
this is how the caches make them fast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")


def maker(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of ``cls`` (a frozen dataclass with slots) for values read back from a
    checked cache: every field given positionally, in order, each slot set directly.

    A frozen dataclass's own ``__init__`` sets each field through ``object.__setattr__``
    (the frozen class refuses its own ``setattr``) after matching each keyword: about 3 us
    for an :class:`Episode`, made again for each of 10,000 episodes and their parts on every
    build. This one sets each slot through its descriptor, in straight-line code made once
    here from the class's own fields, as :mod:`dataclasses` makes ``__init__``: about 1 us.
    The value is the same as ``cls(**fields)`` would make (the tests compare them); nothing
    is checked or defaulted, which the cache's digest and its decoder do.

    :raises TypeError: ``cls`` is not a frozen dataclass with slots whose every field its
        ``__init__`` takes, or it has a ``__post_init__``.
    """
    params = getattr(cls, "__dataclass_params__", None)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if (
        params is None
        or not params.frozen
        or "__slots__" not in cls.__dict__
        or hasattr(cls, "__post_init__")
        or any(not item.init for item in fields)
    ):
        raise TypeError(f"{cls.__name__}: not a frozen dataclass with slots")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(f'a{index}' for index in range(len(fields)))}):", "    made = _new(_cls)"]
    for index, item in enumerate(fields):
        namespace[f"_set{index}"] = cls.__dict__[item.name].__set__
        lines.append(f"    _set{index}(made, a{index})")
    lines.append("    return made")
    # Code made from the class's field count alone (no name, no value read from anywhere).
    exec("\n".join(lines), namespace)  # noqa: S102
    made: Callable[..., _T] = namespace["make"]
    made.__qualname__ = made.__name__ = f"make_{cls.__name__}"
    return made
