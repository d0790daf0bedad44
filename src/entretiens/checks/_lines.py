"""Line numbers of nested fields, read again from the YAML files: the model keeps top-level lines only."""

from __future__ import annotations

import re
from pathlib import Path

from entretiens.yamlfile import YamlList, YamlMap, YamlSyntaxError, read_yaml

_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


class FieldLines:
    """Finds the line of a dotted field (``guests[1].bio``) in a YAML file; each file is read once."""

    def __init__(self) -> None:
        self._data: dict[Path, object] = {}
        self._text: dict[Path, list[str]] = {}

    def line(self, path: Path, field: str) -> int | None:
        """The line of the deepest part of ``field`` that the file holds (the item, when the key is absent)."""
        node = self._load(path)
        found: int | None = node.line if isinstance(node, (YamlMap, YamlList)) and node.line else None
        for index, key in _TOKEN.findall(field):
            if index:
                position = int(index)
                if isinstance(node, YamlList) and position < len(node):
                    found, node = node.item_lines[position], node[position]
                elif not isinstance(node, YamlList) and position == 0:
                    continue  # A lone value written where a list is allowed counts as a list of one.
                else:
                    break
            elif isinstance(node, YamlMap) and key in node:
                found, node = node.key_lines[key], node[key]
            else:
                break
        return found

    def text_line(self, path: Path, needle: str, start: int | None) -> int | None:
        """The first line from ``start`` on whose text contains ``needle``, or None."""
        if path not in self._text:
            try:
                self._text[path] = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._text[path] = []
        for number, text in enumerate(self._text[path][(start or 1) - 1 :], start=start or 1):
            if needle in text:
                return number
        return None

    def _load(self, path: Path) -> object:
        if path not in self._data:
            try:
                self._data[path] = read_yaml(path)
            except YamlSyntaxError:
                self._data[path] = None
        return self._data[path]
