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
    checked cache: every field given positionally, in order.

    A frozen dataclass's own ``__init__`` sets each field through ``object.__setattr__``
    (the frozen class refuses its own ``setattr``) after matching each keyword: about 3 us
    for an :class:`Episode`, made again for each of 10,000 episodes and their parts on every
    build. Calling each slot's descriptor (``__set__``) instead still cost 2.4 us an Episode,
    a call per field. This one makes the value as a *shadow* class with the very same slots
    (the same layout, no ``setattr`` of its own), whose fields are set as plain attributes
    (the interpreter's own store, no call), then gives it its class (``__class__``, which
    Python allows only between classes of the same layout): 0.7 us an Episode. The code is
    made once here from the class's own fields, as :mod:`dataclasses` makes ``__init__``.
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
    slots = cls.__dict__["__slots__"]
    if sorted(slots) != sorted(item.name for item in fields) or not all(name.isidentifier() for name in slots):
        raise TypeError(f"{cls.__name__}: its slots are not its fields")
    # The same bases and slots, in the same order: the layout __class__ assignment asks for.
    shadow = type(f"_Made{cls.__name__}", cls.__bases__, {"__slots__": tuple(slots)})
    namespace: dict[str, Any] = {"_new": object.__new__, "_shadow": shadow, "_cls": cls}
    lines = [f"def make({', '.join(f'a{index}' for index in range(len(fields)))}):", "    made = _new(_shadow)"]
    lines += [f"    made.{item.name} = a{index}" for index, item in enumerate(fields)]
    lines += ["    made.__class__ = _cls", "    return made"]
    # Code made from the class's own field names (identifiers, checked above), nothing else.
    exec("\n".join(lines), namespace)  # noqa: S102
    made: Callable[..., _T] = namespace["make"]
    made.__qualname__ = made.__name__ = f"make_{cls.__name__}"
    return made
