"""Sanitized HTML back into CommonMark, for ``notes.md`` and the Markdown templates.

Markdown for notes.md is written from the sanitized HTML rather than copied from the YAML:
whatever the notes held (raw HTML, javascript: links), only what survived sanitizing comes
out, escaped, so a blog that renders HTML inside Markdown runs nothing.
"""

from __future__ import annotations

import re

import lxml.html

from .markup import safe_url

_BLOCKS = frozenset({"p", "div", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre", "hr", "table", "dl"})
_MARKS = {"em": "*", "i": "*", "strong": "**", "b": "**", "del": "~~", "s": "~~"}
_ESCAPED = re.compile(r"([\\`*_\[\]])")
#: The characters _escape changes or escapes; text without any is returned as it is.
_SPECIAL = re.compile(r"[&<\\`*_\[\]]")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^(#{1,6}(?=\s|$)|[>+=-]|\d+(?=[.)]))")
_BREAK = "\x00"
#: Web addresses written out in text (linkify links them), minus the punctuation that ends a sentence.
_BARE_URL = re.compile(r"(https?://[^\s<>\[\]`*\\]*[^\s<>\[\]`*\\.,;:!?)'\"])")


def markdown_text(text: str) -> str:
    """Plain text as Markdown text: formatting characters and HTML escaped."""
    return _guard(_squash(_escape(text)))


def html_to_markdown(fragment: str) -> str:
    """Sanitized HTML (as :func:`markup.render_markdown` returns it) as CommonMark."""
    if not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return "\n\n".join(_blocks(root)).strip()


def _escape(text: str) -> str:
    if not _SPECIAL.search(text):
        return text  # most text between tags: nothing below would change it
    text = _ENTITY.sub("&amp;", text).replace("<", "&lt;")
    # A bare web address is linked as it is written: a backslash in it would be shown, not read.
    parts = _BARE_URL.split(text)
    return "".join(part if index % 2 else _ESCAPED.sub(r"\\\1", part) for index, part in enumerate(parts))


def _squash(text: str) -> str:
    joined = " ".join(text.split())
    return re.sub(f" ?{_BREAK} ?", "  \n", joined).strip()


def _guard(text: str) -> str:
    """Escape what would start a heading, list or quote at the beginning of a paragraph."""
    match = _LINE_START.match(text)
    if match is None:
        return text
    token = match.group(0)
    if token[0].isdigit():
        # "1986. was..." would start an ordered list: escape the dot, not the number.
        return token + "\\" + text[len(token) :]
    return "\\" + text


def _blocks(element: lxml.html.HtmlElement) -> list[str]:
    out: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        text = _squash("".join(inline))
        inline.clear()
        if text:
            out.append(_guard(text))

    inline.append(_escape(element.text or ""))
    for child in element:
        if isinstance(child.tag, str) and child.tag in _BLOCKS:
            flush()
            block = _block(child)
            out.extend(block)
        elif isinstance(child.tag, str):
            inline.append(_inline(child))
        inline.append(_escape(child.tail or ""))
    flush()
    return out


def _block(element: lxml.html.HtmlElement) -> list[str]:
    tag = element.tag
    if tag in ("p", "div"):
        return _blocks(element)
    if tag in ("h2", "h3", "h4", "h5", "h6"):
        text = _squash(_inline_content(element))
        return ["#" * int(tag[1]) + " " + text] if text else []
    if tag in ("ul", "ol"):
        return [_list(element)]
    if tag == "blockquote":
        inner = "\n\n".join(_blocks(element))
        return ["\n".join(f"> {line}".rstrip() for line in inner.splitlines())] if inner else []
    if tag == "pre":
        code = element.text_content().rstrip("\n")
        fence = "`" * max(3, _longest_run(code, "`") + 1)
        return [f"{fence}\n{code}\n{fence}"]
    if tag == "hr":
        return ["* * *"]
    if tag == "table":
        return [_table(element)]
    # dl: each term and definition as its own paragraph.
    return [_guard(_squash(_inline_content(item))) for item in element if isinstance(item.tag, str)]


def _list(element: lxml.html.HtmlElement) -> str:
    items = []
    number = int(element.get("start") or 1) if element.get("start", "1").isdigit() else 1
    for item in element:
        if not isinstance(item.tag, str):
            continue
        marker = f"{number}. " if element.tag == "ol" else "- "
        number += 1
        # A tight item (no paragraphs of its own) keeps its nested list on the next line.
        loose = any(child.tag == "p" for child in item if isinstance(child.tag, str))
        body = ("\n\n" if loose else "\n").join(_blocks(item))
        lines = body.splitlines() or [""]
        indent = " " * len(marker)
        items.append(marker + lines[0] + "".join(f"\n{indent}{line}" if line else "\n" for line in lines[1:]))
    return "\n".join(items)


def _table(element: lxml.html.HtmlElement) -> str:
    rows = [
        [_squash(_inline_content(cell)).replace("|", "\\|") for cell in row if cell.tag in ("td", "th")]
        for row in element.iter("tr")
    ]
    rows = [row for row in rows if row]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _inline_content(element: lxml.html.HtmlElement) -> str:
    parts = [_escape(element.text or "")]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(_inline(child))
        parts.append(_escape(child.tail or ""))
    return "".join(parts)


def _inline(element: lxml.html.HtmlElement) -> str:
    tag = element.tag
    if tag == "br":
        return _BREAK
    if tag == "code":
        code = " ".join(element.text_content().split())
        ticks = "`" * (_longest_run(code, "`") + 1)
        pad = " " if code.startswith("`") or code.endswith("`") else ""
        return f"{ticks}{pad}{code}{pad}{ticks}" if code else ""
    if tag == "img":
        src = markdown_url(element.get("src"))
        return f"![{_escape(element.get('alt') or '')}]({src})" if src else _escape(element.get("alt") or "")
    content = _inline_content(element)
    if tag == "a":
        href = markdown_url(element.get("href"))
        text = content.strip() or _escape(element.get("href") or "")
        return f"[{text}]({href})" if href else content
    mark = _MARKS.get(tag)
    if mark and content.strip():
        # Emphasis markers must touch the text: keep surrounding spaces outside them.
        lead = " " if content[:1].isspace() else ""
        tail = " " if content[-1:].isspace() else ""
        return f"{lead}{mark}{content.strip()}{mark}{tail}"
    return content


def markdown_url(url: str | None) -> str | None:
    """A link destination for Markdown: safe schemes only, spaces and brackets encoded."""
    checked = safe_url(url)
    if checked is None:
        return None
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        checked = checked.replace(char, code)
    return checked


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)
