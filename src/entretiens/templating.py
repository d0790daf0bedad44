"""The Jinja environment of the whole site: shipped templates, the show's overrides, the filters.

Every page, the feed's ``content:encoded``, ``notes.md``, the sitemap and the feed stylesheet
are rendered through :func:`render`, so a template error always names the template at fault.

A show's templates are input like its YAML: they run in Jinja's sandbox (no attribute leads
to Python's internals, ``os.popen`` included), with bounds on loops, repetition, recursion and
output, and every error (a Python one too) is reported at the template's file and line. A
template that is a link leading out of the show folder is refused before it is read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import operator
import os
import re
import stat
from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from types import BuiltinMethodType, CodeType, MappingProxyType, MethodType, TracebackType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.runtime import Context
from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment
from markupsafe import Markup

from . import buildrecord
from .atomicfile import atomic_write
from .errors import Problem, TemplateError
from .markdown_writer import html_to_markdown, markdown_text, markdown_url
from .markup import render_markdown, safe_url, to_plain_text
from .model import Show
from .show_templates import outside
from .timecodes import timecode
from .unitcache import libraries
from .wording import directory_name, file_size, human_duration, iso_duration, link_host, long_date, strings


def environment(override_dir: Path | None) -> jinja2.Environment:
    """Templates shipped with the package, overridable file by file from the show's templates/."""
    return _environment(override_dir, _listing(override_dir))


def overridden(show: Show, name: str) -> bool:
    """Whether the show has a template of its own at ``name`` (in place of the shipped one)."""
    return name in _listing(show.root / "templates")


def _listing(folder: Path | None) -> tuple[str, ...]:
    # Part of the cache key: an override added or removed while `entretiens serve` runs gives
    # a new environment, since Jinja's own cache would keep using the shipped template.
    if folder is None or not folder.is_dir():
        return ()
    return tuple(sorted(str(path.relative_to(folder)) for path in folder.rglob("*.j2")))


#: The most characters one rendered file may hold: a home page of 10,000 episodes is a few MB.
MAX_OUTPUT = 64 * 1024 * 1024
#: The most numbers ``range()`` may hand out in one rendering, over all its loops.
MAX_RANGE_ITEMS = 10_000_000
#: The largest template file read.
MAX_TEMPLATE_BYTES = 1024 * 1024
_range_left: ContextVar[list[int]] = ContextVar("range_left")


class _Refused(jinja2.TemplateError):
    """A template file that may not be read; ``path`` is the file."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


class _ShowLoader(jinja2.FileSystemLoader):
    """The show's templates/ folder, refusing a file that leads out of the show or is no file."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._folder = folder

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = self._folder.joinpath(*split_template_path(template))
        if path.is_symlink() or path.exists():
            if outside(self._folder.parent, path):
                raise _Refused(path, "this template leads outside the show folder")
            if not path.is_file():
                raise _Refused(path, "this template is not a regular file")
            if path.stat().st_size > MAX_TEMPLATE_BYTES:
                raise _Refused(path, f"this template weighs over {MAX_TEMPLATE_BYTES:,} bytes")
        return super().get_source(environment, template)


#: The contexts Jinja makes while :func:`render` renders a page (None outside a render).
_contexts: ContextVar[list[Context] | None] = ContextVar("contexts", default=None)


class _Context(Context):
    """Jinja's context of a page or of a template it imports, noted as made (see :func:`render`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        made = _contexts.get()
        if made is not None:
            made.append(self)


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, with repetition (``'x' * 10**10``) and powers bounded too."""

    intercepted_binops = frozenset({"*", "**"})
    context_class = _Context

    def call_binop(self, context: Context, op: str, left: Any, right: Any) -> Any:
        if op == "*":
            for sequence, count in ((left, right), (right, left)):
                sized = isinstance(sequence, (str, list, tuple)) and isinstance(count, int)
                if sized and len(sequence) * count > MAX_OUTPUT:
                    raise SecurityError("the template writes too much (a repetition over 64 MB)")
            return operator.mul(left, right)
        if op == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise SecurityError("the template computes a power too large")
        return super().call_binop(context, op, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.attribute`` as the sandbox answers it, in fewer steps for the two kinds of
        object pages read most (hundreds of thousands of times in a big show's build).

        A dataclass instance (the show's model, the pages' views) is none of the objects the
        sandbox guards (functions, methods, types, frames, code, generators): for it, a public
        attribute that is not a method is safe, which the sandbox decides too, at length. A
        read-only mapping (the strings, ``t``) has no attribute of that name, so the sandbox
        would look the key up after an AttributeError.
        """
        kind = type(obj)
        plain = _PLAIN_TYPES.get(kind)
        if plain is None:
            plain = _PLAIN_TYPES[kind] = dataclasses.is_dataclass(kind) and not issubclass(kind, type)
        if plain and not attribute.startswith("_"):
            try:
                value = getattr(obj, attribute)
            except AttributeError:
                pass
            else:
                if not isinstance(value, (MethodType, BuiltinMethodType)):
                    return value
        elif kind is MappingProxyType and attribute not in _PROXY_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        # 'x'.ljust(10**10) or str.zfill would allocate gigabytes before the page cap could act.
        _refuse_huge(args, kwargs)
        return super().call(context, obj, *args, **kwargs)

    def compile(  # type: ignore[override]
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> str | CodeType:
        """A template's code, with the Python source Jinja generates from it kept between runs
        (see :func:`_generated`): parsing and generating the templates of one page took
        longer than rendering it, at every publish."""
        if raw:
            return super().compile(source, name, filename, raw=True, defer_init=defer_init)
        if defer_init or not isinstance(source, str) or _code_folder() is None:
            return super().compile(source, name, filename, defer_init=defer_init)
        key = hashlib.sha256(json.dumps([_code_version(), name, filename, source]).encode("utf-8")).hexdigest()
        generated = _generated(key)
        if generated is None:
            generated = super().compile(source, name, filename, raw=True)
            assert isinstance(generated, str)
            _keep_generated(key, generated)
        return self._compile(generated, filename or "<template>")


#: What every kept template code starts with, before its key and the SHA-256 of its source.
_CODE_MAGIC = b"entretiens template code 1\n"
#: Larger than the code of any template (a template file is at most 1 MiB).
_CODE_MOST = 32 * 1024 * 1024


@functools.cache
def _code_folder() -> Path | None:
    """Where the code Jinja generates from templates is kept: the user's own cache folder
    (``$XDG_CACHE_HOME``, else ``~/.cache``), never the show folder, since it is code that
    runs, and a show folder can come from anyone. None (nothing kept) without a home, or when
    the folder is not this user's alone (another user could write code into it)."""
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        folder = base / "entretiens" / "templates"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for place in (folder, folder.parent):
            status = os.stat(place, follow_symlinks=False)
            if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & 0o022:
                return None
    except (OSError, RuntimeError, AttributeError):  # no home; os.getuid is POSIX only
        return None
    return folder


@functools.cache
def _code_version() -> str:
    """What shapes the code Jinja generates, besides the template: entretiens' own code (the
    environment's options and filters, which Jinja runs on constants as it compiles), Python's
    and the libraries' versions."""
    return f"{buildrecord.code()} {libraries()}"


def _generated(key: str) -> str | None:
    """The code kept under ``key``, if its check holds: a file cut short, damaged or left by
    other code is ignored (and replaced), never run."""
    folder = _code_folder()
    if folder is None:
        return None
    try:
        handle = os.open(folder / key, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        # Read at its size (one byte more shows a file still growing): reading up to the cap
        # made a buffer of 32 MiB for each template of every run.
        size = os.fstat(handle).st_size
        data = os.read(handle, size + 1) if size < _CODE_MOST else b""
    except OSError:
        return None
    finally:
        os.close(handle)
    head = _CODE_MAGIC + key.encode("ascii") + b"\n"
    if not data.startswith(head):
        return None
    digest, _, body = data[len(head) :].partition(b"\n")
    if digest.decode("ascii", "replace") != hashlib.sha256(body).hexdigest():
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _keep_generated(key: str, generated: str) -> None:
    """Keep a template's generated code (no error if it cannot be kept: it only saves time)."""
    folder = _code_folder()
    if folder is None:
        return
    body = generated.encode("utf-8")
    check = hashlib.sha256(body).hexdigest()
    with contextlib.suppress(OSError), atomic_write(folder / key, mode=0o600) as temporary:
        temporary.write_bytes(b"".join([_CODE_MAGIC, f"{key}\n{check}\n".encode("ascii"), body]))


#: Whether a type is a dataclass (see :meth:`_Sandbox.getattr`), by type.
_PLAIN_TYPES: dict[type, bool] = {}
#: The attributes a read-only mapping has, which the sandbox prefers to its keys.
_PROXY_ATTRIBUTES = frozenset(dir(MappingProxyType))


def _refuse_huge(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
            raise SecurityError(f"the number {value:.0f} is too large for a template")


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that refuses huge numbers (``center(10**10)``), even when Jinja folds it at compile time."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _refuse_huge(args[1:], kwargs)
        return function(*args, **kwargs)

    return guarded


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"a range of over {MAX_RANGE:,} numbers")
    left = _range_left.get(None)
    if left is not None:
        left[0] -= len(numbers)
        if left[0] < 0:
            raise SecurityError(f"the template's loops run over {MAX_RANGE_ITEMS:,} times")
    return numbers


@lru_cache(maxsize=8)
def _environment(override_dir: Path | None, listing: tuple[str, ...]) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(_ShowLoader(override_dir))
    loaders.append(jinja2.PackageLoader("entretiens", "templates"))
    env = _Sandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "xml", "html.j2", "xml.j2", "xsl.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        # The shipped templates never change while the process runs: without overrides, no
        # template file is looked at again (Jinja would stat it at every page otherwise).
        auto_reload=bool(listing),
    )
    env.filters.update(
        # render_markdown sanitizes: its output is the one HTML that user text may become.
        markdown=lambda text, base=None, top=2: Markup(shift_headings(render_markdown(text, base_url=base), top)),  # noqa: S704
        timecode=timecode,
        plain=to_plain_text,
        long_date=long_date,
        duration=human_duration,
        iso_duration=iso_duration,
        file_size=file_size,
        safe_url=safe_url,
        host=link_host,
        directory_name=directory_name,
        md=markdown_text,
        md_block=lambda text, base=None, top=2: html_to_markdown(
            shift_headings(render_markdown(text, base_url=base), top)
        ),
        md_url=markdown_url,
    )
    env.globals["range"] = _bounded_range
    for name in ("center", "indent", "truncate", "wordwrap", "batch", "slice"):
        env.filters[name] = _guarded(env.filters[name])
    return env


def shift_headings(fragment: str, top: int) -> str:
    """Move the headings of rendered Markdown down so that the highest is ``h<top>``.

    Rendered Markdown starts at h2; notes placed under a page's own h2 start at h3, keeping the
    outline in order.
    """
    shift = max(0, top - 2)
    if not shift:
        return fragment
    return re.sub(r"<(/?)h([2-6])>", lambda m: f"<{m[1]}h{min(6, int(m[2]) + shift)}>", fragment)


def render(show: Show, name: str, **context: object) -> str:
    """Render one template of the show (its override if any) with the show's strings.

    :raises TemplateError: a template (most likely the show's own override) is broken, escapes
        the sandbox, runs past a bound, or leads outside the show; its ``problem`` says where.
    """
    token = _range_left.set([MAX_RANGE_ITEMS])
    made: list[Context] = []
    noted = _contexts.set(made)
    try:
        template = environment(show.root / "templates").get_template(name)
        parts: list[str] = []
        size = 0
        for part in template.generate(show=show, t=strings(show.language), **context):
            size += len(part)
            if size > MAX_OUTPUT:
                message = f"not allowed in a template: it writes too much (over {MAX_OUTPUT // (1024 * 1024)} MB)"
                raise _error(show, name, message, Path(template.filename) if template.filename else None, None)
            parts.append(part)
        return "".join(parts)
    except TemplateError:
        raise
    except _Refused as exc:
        hint = "copy the file into templates/ instead of linking to it"
        raise _error(show, name, str(exc), exc.path, None, hint) from None
    except jinja2.TemplateSyntaxError as exc:
        path = Path(exc.filename) if exc.filename else None
        raise _error(show, name, f"template syntax error: {exc.message}", path, exc.lineno) from None
    except RecursionError as exc:
        raise _located(show, name, exc, "the template calls itself without end (recursion)") from None
    except SecurityError as exc:
        raise _located(show, name, exc, f"not allowed in a template: {exc}") from None
    except jinja2.TemplateError as exc:
        raise _located(show, name, exc, f"{exc.__class__.__name__}: {exc}") from None
    except Exception as exc:  # any Python error of a template's own making
        raise _located(show, name, exc, f"{exc.__class__.__name__}: {exc}") from None
    finally:
        _range_left.reset(token)
        _contexts.reset(noted)
        _let_go(made, ("show", "t", *context))


def _let_go(made: list[Context], names: tuple[str, ...]) -> None:
    """Drop what a page was given from the contexts its rendering made.

    A context and the macros of a template imported "with context" refer to each other: a
    cycle that only the collector frees, at its rare full passes once a large build has
    promoted it, and that held the site, its guests and every release's entry (10 MB at
    10,000 episodes) through the dating, lint and write of the build. A context Jinja keeps
    for later renders (a template imported without context) holds none of these names.
    """
    for context in made:
        for name in names:
            context.parent.pop(name, None)
            context.vars.pop(name, None)


def _located(show: Show, name: str, exc: BaseException, message: str) -> TemplateError:
    """The error at the template line where ``exc`` happened (the show's own template if any)."""
    path, line = _template_frame(exc.__traceback__, show.root / "templates")
    return _error(show, name, message, path, line)


def _template_frame(tb: TracebackType | None, own: Path) -> tuple[Path | None, int | None]:
    # Jinja rewrites tracebacks so that template code shows as frames of the .j2 file itself.
    found: tuple[Path | None, int | None] = (None, None)
    mine: tuple[Path | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (Path(filename), tb.tb_lineno)
            if Path(filename).is_relative_to(own):
                mine = found
        tb = tb.tb_next
    return mine if mine[0] is not None else found


def _error(
    show: Show, name: str, message: str, path: Path | None, line: int | None, hint: str | None = None
) -> TemplateError:
    own = show.root / "templates"
    if path is not None and not path.is_absolute():
        path = own / path
    if path is None and (own / name).is_file():
        path = own / name
    if path is None or not path.is_relative_to(own):
        shipped = path.name if path is not None else name
        where = f"the shipped template {shipped}" + (f", line {line}" if line else "")
        problem = Problem(rule="template-error", message=f"{where}: {message}", hint=hint or _HINT)
    else:
        problem = Problem(rule="template-error", path=path, line=line, message=message, hint=hint or _HINT)
    return TemplateError(problem.format(show.root), problem=problem)


_HINT = "fix the show's template, or remove it to use the shipped one"
