"""The API's JSON reading: DRF's parser with nesting bounded.

Python's JSON parser recurses, so a body nested 50,000 deep raised ``RecursionError`` (a 500); that
is a parse error now. Bodies the parser can still take are bounded too, far below the interpreter's
limit, so nothing that walks a body afterwards (a serializer, an error message, a JSON column) can
reach it: no input of this API is more than a few levels deep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO

from rest_framework import exceptions, parsers

MAX_JSON_DEPTH = 32


def depth_check(value: object, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise ``ValueError`` if ``value`` nests lists and objects deeper than ``max_depth``."""
    level, containers = 0, [value]
    while containers:
        level += 1
        if level > max_depth:
            raise ValueError(f"nested deeper than {max_depth} levels")
        containers = [
            item
            for container in containers
            if isinstance(container, list | Mapping)
            for item in (container.values() if isinstance(container, Mapping) else container)
            if isinstance(item, list | Mapping)
        ]


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (strict: no NaN or Infinity), refusing bodies nested too deeply."""

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: dict | None = None) -> object:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        try:
            depth_check(data)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}.") from None
        return data
