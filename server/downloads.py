"""Downloads in words — their size, what went wrong — shared by the
Pyodide files and the data files."""
from __future__ import annotations

import http.client
import socket


def failure_reason(error: Exception, timeout: float) -> str:
    """A network error (URLError, HTTPException, OSError) as a short phrase."""
    reason = getattr(error, "reason", None) or error
    reason = getattr(reason, "strerror", None) or reason
    if isinstance(reason, (TimeoutError, socket.timeout)) or "timed out" in str(reason):
        return f"no answer within {timeout:g} s"
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed before the whole file arrived"
    return str(reason)


def byte_size(nbytes: int | None) -> str:
    """A byte count as a person reads it: "12.3 MB"."""
    if nbytes is None:
        return "unknown size"
    if nbytes >= 1_000_000:
        return f"{nbytes / 1_000_000:.1f} MB"
    if nbytes >= 1_000:
        return f"{nbytes / 1_000:.1f} kB"
    return f"{nbytes} B"
