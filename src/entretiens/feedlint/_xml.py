"""Checks of the XML document itself: declaration, encoding, root, namespaces, raw markup."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

from lxml import etree

from entretiens.errors import Problem
from entretiens.feedlint._context import Context, children, line_of, namespace, qname, words
from entretiens.podcast_spec import ATOM_NS, CONTENT_NS, ITUNES_NS, PODCAST_NS, PSC_NS

#: The XML declaration Apple asks for (any version 1.x), its encoding captured.
DECLARATION = re.compile(
    rb"""<\?xml\s+version\s*=\s*["']1\.[0-9]["']"""
    rb"""(?:\s+encoding\s*=\s*["'](?P<encoding>[A-Za-z][A-Za-z0-9._-]*)["'])?"""
    rb"""(?:\s+standalone\s*=\s*["'](?:yes|no)["'])?\s*\?>"""
)
_BOM = b"\xef\xbb\xbf"
#: The namespaces a feed must bind to these exact prefixes (FEED_RULES §1).
_EXPECTED = {"itunes": ITUNES_NS, "podcast": PODCAST_NS, "atom": ATOM_NS, "content": CONTENT_NS}
#: Elements that hold child elements; every other known element holds text only.
_CONTAINERS = words(
    "rss channel item image textInput skipHours skipDays itunes:owner itunes:category "
    "podcast:alternateEnclosure podcast:value podcast:valueTimeSplit podcast:liveItem "
    "podcast:podroll podcast:publisher psc:chapters"
)


def check_document(xml: bytes) -> list[Problem]:
    """Check what precedes the root: the XML declaration, its encoding and the bytes' encoding.

    :param xml: the feed as bytes.
    :returns: the findings (no line numbers beyond 1: they concern the first line).
    """
    problems: list[Problem] = []
    body = xml
    if body.startswith(_BOM):
        problems.append(
            Problem(
                rule="rss.xml.bom",
                message="The feed starts with a UTF-8 byte order mark, which some podcast apps choke on.",
                line=1,
                hint="write the feed without a BOM",
            )
        )
        body = body[len(_BOM) :]
    match = DECLARATION.match(body)
    if match is None or match["encoding"] is None:
        problems.append(
            Problem(
                rule="rss.xml.declaration",
                message='The feed does not start with <?xml version="1.0" encoding="UTF-8"?>, which Apple requires.',
                line=1,
                hint='put <?xml version="1.0" encoding="UTF-8"?> on the first line',
            )
        )
    elif match["encoding"].decode("ascii").lower() not in ("utf-8", "utf8"):
        problems.append(
            Problem(
                rule="rss.xml.encoding",
                message=f'The XML declaration names the encoding "{match["encoding"].decode("ascii")}"; '
                "Apple needs UTF-8.",
                line=1,
                hint="encode the feed as UTF-8 and declare it",
            )
        )
    start = utf8_error(body)
    if start is not None:
        problems.append(
            Problem(
                rule="rss.xml.encoding",
                message=f"The feed is not valid UTF-8 (byte {start} cannot be decoded).",
                line=body.count(b"\n", 0, start) + 1,
                hint="encode the feed as UTF-8",
            )
        )
    return problems


def utf8_error(body: bytes, chunk: int = 1 << 20) -> int | None:
    """The offset of the first byte that is not UTF-8 (as ``bytes.decode`` reports it), or None.

    Decoded a chunk at a time and thrown away: decoding a 60 MB feed at once holds a 60 MB
    string, a third of a 10,000-episode build's memory budget.
    """
    if body.isascii():
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    for offset in range(0, len(body), chunk):
        part = view[offset : offset + chunk]
        try:
            decoder.decode(part, final=offset + chunk >= len(body))
        except UnicodeDecodeError as exc:
            # The decoder reports offsets in what it kept from the last chunk plus this one.
            return offset - (len(exc.object) - len(part)) + exc.start
    return None


def check_root(root: etree._Element) -> list[Problem]:
    """Check ``<rss version="2.0">`` with exactly one ``<channel>``.

    :param root: the document's root element.
    :returns: the findings.
    """
    problems: list[Problem] = []
    if root.tag != "rss" or root.get("version") != "2.0":
        problems.append(
            Problem(
                rule="rss.root",
                message=f'The root element is <{qname(root)} version="{root.get("version", "")}">, '
                'not <rss version="2.0">.',
                line=line_of(root),
                field=qname(root),
                hint='make <rss version="2.0"> the root element',
            )
        )
    count = len([child for child in children(root) if child.tag == "channel"])
    if root.tag == "rss" and count != 1:
        problems.append(
            Problem(
                rule="rss.channel.count",
                message=f"<rss> has {count} <channel> elements; RSS needs exactly one.",
                line=line_of(root),
                field="rss/channel",
                hint="put the whole show in one <channel>",
            )
        )
    return problems


def check_namespaces(
    ctx: Context, elements: Iterable[etree._Element], seen: set[tuple[str | None, str]] | None = None
) -> None:
    """Check that itunes, podcast, atom and content use their exact URIs and prefixes.

    :param ctx: the lint run.
    :param elements: the document's nodes in document order (``root.iter()``), or the next
        stretch of them when streaming.
    :param seen: the bindings already reported on, shared between the calls of one lint.
    """
    seen = set() if seen is None else seen
    for element in elements:
        if not isinstance(element.tag, str):
            continue
        parent = element.getparent()
        inherited = parent.nsmap if parent is not None else {}
        for prefix, uri in element.nsmap.items():
            if inherited.get(prefix) == uri or (prefix, uri) in seen:
                continue
            seen.add((prefix, uri))
            _check_binding(ctx, element, prefix, uri)


def _check_binding(ctx: Context, element: etree._Element, prefix: str | None, uri: str) -> None:
    expected = _EXPECTED.get(prefix or "")
    declared = f'xmlns:{prefix}="{uri}"' if prefix else f'xmlns="{uri}"'
    if expected is not None and uri != expected:
        ctx.report(
            element,
            "rss.namespace.uri",
            f"declares {declared}; it must be exactly {expected}, or every {prefix}: tag is ignored.",
            hint=f'declare xmlns:{prefix}="{expected}"',
        )
        return
    if uri.lower() == ITUNES_NS.lower() and uri != ITUNES_NS:
        ctx.report(
            element,
            "rss.namespace.uri",
            f"declares {declared}; the URI is case-sensitive and must be {ITUNES_NS}.",
            hint=f'declare xmlns:itunes="{ITUNES_NS}"',
        )
        return
    for wanted, canonical in _EXPECTED.items():
        if uri == canonical and prefix != wanted:
            ctx.report(
                element,
                "rss.namespace.prefix",
                f"binds {canonical} to {'prefix ' + prefix if prefix else 'the default namespace'}; "
                f"podcast directories match the literal prefix {wanted}:.",
                hint=f'declare xmlns:{wanted}="{canonical}" and write {wanted}: tags',
            )


def check_markup(ctx: Context, element: etree._Element) -> None:
    """Report raw HTML elements in text elements (they must be escaped or in CDATA).

    :param ctx: the lint run.
    :param element: where to start (the channel).
    """
    for child in children(element):
        uri = namespace(child)
        if uri not in (None, ITUNES_NS, PODCAST_NS, CONTENT_NS, ATOM_NS, PSC_NS):
            continue
        inner = children(child)
        if qname(child) in _CONTAINERS:
            check_markup(ctx, child)
        elif inner:
            ctx.report(
                child,
                "rss.markup_in_text",
                f"contains a raw <{qname(inner[0])}> element; apps read only text here.",
                hint="put HTML inside <![CDATA[ ... ]]> or escape it",
            )
