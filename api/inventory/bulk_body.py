"""Reading a bulk body: JSON array, NDJSON or CSV by content type, within the row and byte limits.

The body is read from the stream with its own byte limit, so Django's small request-size limit
keeps guarding every other endpoint.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.request import Request

from api.errors import PayloadTooLarge

JSON_TYPES = {"application/json"}
NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines"}
CSV_TYPES = {"text/csv"}
BULK_CONTENT_TYPES = sorted(JSON_TYPES | NDJSON_TYPES | CSV_TYPES)
# Python's JSON parser recurses, so deep nesting fails it before a row could be checked. Within its
# limit no depth check is needed: rows must be flat, and every cell parser refuses a list or an
# object without walking it.
NESTED_TOO_DEEPLY = "Malformed JSON: nested too deeply; rows are flat objects of field names to values."


class IdempotencyKeyReusedError(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was used for a different request body. Use a new key for a new batch, "
        "or resend the original body unchanged."
    )


# What the OpenAPI document says of the header, and what is refused: 1 to 255 visible ASCII
# characters, spaces only between them.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]{0,253}[!-~])?$"


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not key.strip():
        raise exceptions.ValidationError(
            {"Idempotency-Key": ["This header is required: a unique value per batch (e.g. a UUID), reused on retry."]}
        )
    if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        raise exceptions.ValidationError(
            {"Idempotency-Key": ["At most 255 visible ASCII characters (spaces only between them)."]}
        )
    return key


def read_body(request: Request) -> tuple[str, bytes]:
    """The media type and raw bytes of the body, refusing what is too large or of another type."""
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type not in BULK_CONTENT_TYPES:
        raise exceptions.UnsupportedMediaType(
            media_type or "(none)", detail=f"Send one of: {', '.join(BULK_CONTENT_TYPES)}."
        )
    limit = settings.INGEST_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("The Content-Length header is not a number.") from None
    if declared > limit:
        raise PayloadTooLarge(f"The body has {declared} bytes; at most {limit} per request. Split the batch.")
    stream = request.stream
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise PayloadTooLarge(f"The body is over {limit} bytes; split the batch.")
    return media_type, body


def body_hash(media_type: str, body: bytes) -> str:
    return hashlib.sha256(media_type.encode() + b"\n" + body).hexdigest()


def parse_rows(media_type: str, body: bytes) -> list[dict]:
    """Rows as dicts; a malformed body is a 400 that names the line, too many rows a 413."""
    limit = settings.INGEST_MAX_ROWS
    if media_type in JSON_TYPES:
        try:
            rows = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}.") from None
        except RecursionError:
            raise exceptions.ParseError(NESTED_TOO_DEEPLY) from None
        if not isinstance(rows, list):
            raise exceptions.ParseError("Expected a JSON array of row objects.")
    elif media_type in NDJSON_TYPES:
        lines = body.splitlines()
        _check_count(sum(1 for line in lines if line.strip()), limit)
        rows = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except (ValueError, UnicodeDecodeError) as exc:
                raise exceptions.ParseError(f"Malformed JSON on line {number}: {exc}.") from None
            except RecursionError:
                raise exceptions.ParseError(f"{NESTED_TOO_DEEPLY} (line {number})") from None
    else:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise exceptions.ParseError("CSV must be UTF-8.") from None
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        try:
            rows = [{key: value for key, value in row.items() if value != ""} for row in reader]
        except csv.Error as exc:
            raise exceptions.ParseError(f"Malformed CSV on line {reader.line_num}: {exc}.") from None
        if any(None in row for row in rows):
            raise exceptions.ParseError("A CSV row has more values than the header has columns.")
    _check_count(len(rows), limit)
    if not rows:
        raise exceptions.ValidationError({"rows": ["The batch is empty."]})
    return rows


def _check_count(count: int, limit: int) -> None:
    if count > limit:
        raise PayloadTooLarge(f"The batch has {count} rows; at most {limit} per request. Split it.")
