"""Structured logs with structlog: JSON lines in production, readable lines in development.

structlog rather than django-structlog: the latter writes two lines per request (started, finished)
with the user's id and address, and knows nothing of a tenant, a principal kind or a route pattern;
the one line per request and per task we want is a short middleware and two Celery signals, and
structlog's ``ProcessorFormatter`` renders the project's plain ``logging`` messages (the
``tripline.*`` loggers, Django's, Celery's) in the same format, with the request id bound to them.
"""

from __future__ import annotations

import logging

import structlog

_SHARED = [
    structlog.contextvars.merge_contextvars,  # the request id or task id of what is running
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def console_line(logger: object, method: str, event_dict: dict) -> str:
    """``time LEVEL logger: message key=value ...``: the plain format the project logged in before,
    so a message without fields reads (and ends) as it did, and the fields follow it."""
    timestamp, level = event_dict.pop("timestamp", ""), str(event_dict.pop("level", "")).upper()
    name, event = event_dict.pop("logger", ""), event_dict.pop("event", "")
    exception = event_dict.pop("exception", None)
    fields = " ".join(f"{key}={value}" for key, value in event_dict.items())
    line = f"{timestamp} {level} {name}: {event}" + (f" {fields}" if fields else "")
    return f"{line}\n{exception}" if exception else line


def formatter(output: str = "json") -> logging.Formatter:
    """The one formatter of every handler (``LOGGING`` names it): ``json`` or ``console``."""
    renderer = structlog.processors.JSONRenderer() if output == "json" else console_line
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def structlog_configure() -> None:
    """structlog's loggers hand their events to ``logging``, whose handlers and levels (``LOGGING``)
    decide where they go, so both kinds of message share one configuration."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
