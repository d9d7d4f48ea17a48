"""A spec in a link: compact JSON, zlib-compressed, base64url (no padding).

The link holds the whole spec, seed included, and no weights: the seeded
initialisation makes the same starting weights in every browser.
"""
from __future__ import annotations

import base64
import binascii
import json
import zlib

from .errors import SpecError
from .schema import Spec, parse_spec

QUERY_KEY = "s"
_MAX_LINK_BYTES = 16_384  # a spec without weights is a few hundred bytes


def spec_to_link(spec: Spec) -> str:
    text = json.dumps(spec.to_dict(weights=False), separators=(",", ":"))
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def spec_from_link(code: str) -> Spec:
    if not isinstance(code, str) or len(code) > _MAX_LINK_BYTES:
        raise SpecError("link: the model in this link is too long to be one of ours")
    try:
        packed = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
        text = zlib.decompressobj().decompress(packed, _MAX_LINK_BYTES * 8)
        raw = json.loads(text)
    except (binascii.Error, zlib.error, ValueError, RecursionError):
        raise SpecError("link: the model in this link is damaged (it may have been cut short when copied)") from None
    try:
        return parse_spec(raw)
    except SpecError as error:
        raise SpecError(f"link: {error}", f"link.{error.path}") from None
