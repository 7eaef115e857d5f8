"""Why an OTLP/HTTP body was refused; each error carries the HTTP status that says so."""

from __future__ import annotations


class PayloadError(Exception):
    """A request body we cannot count; ``str(exc)`` is the reason sent back to the client."""

    status = 400


class MalformedPayload(PayloadError):
    """Not a well-formed ExportLogsServiceRequest (bad JSON/protobuf/gzip, wrong types)."""

    status = 400


class PayloadTooLarge(PayloadError):
    """The body, or its gzip-decompressed form, is over the configured limit."""

    status = 413


class UnsupportedMediaType(PayloadError):
    """A Content-Type or Content-Encoding we do not read."""

    status = 415
