"""Domain exceptions the API layer turns into its error format."""


class NotFound(Exception):
    """The object does not exist in this tenant, or the caller may not see it: the same answer."""


class Conflict(Exception):
    """The request is valid but clashes with the current state (409)."""


class Contended(Exception):
    """PostgreSQL aborted every attempt of the transaction for a deadlock or a serialization
    failure; nothing was written, and the same request may succeed in a moment (503)."""

    retry_after_seconds = 1
