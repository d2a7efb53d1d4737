"""The API's JSON parser: refuses what would otherwise fail deep inside a view.

- nesting deeper than MAX_DEPTH (and the RecursionError of pathological nesting);
- NUL characters in any string or key (PostgreSQL refuses them in text);
- numbers that are not finite (NaN, Infinity) — not JSON, though Python's parser takes them.
"""

from __future__ import annotations

import json

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def check_json(data, max_depth: int = MAX_DEPTH) -> None:
    """Walk the parsed document without recursion; raise ParseError/ValidationError on bad input."""
    stack = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > max_depth:
            raise exceptions.ParseError(f"The JSON document is nested deeper than {max_depth} levels.")
        if isinstance(value, str):
            if "\x00" in value:
                raise exceptions.ValidationError({path or "body": ["Text cannot contain a NUL character (\\u0000)."]})
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise exceptions.ValidationError({"body": ["A key cannot contain a NUL character (\\u0000)."]})
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, f"{path}.{index}" if path else str(index), depth + 1))


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"The body is not {encoding} text.") from exc
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise exceptions.ParseError(f"The JSON document is nested deeper than {MAX_DEPTH} levels.") from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        check_json(data)
        return data
