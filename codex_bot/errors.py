"""Errors whose message is meant for the person who asked (CLI user or Slack user).

Anything raised as a :class:`UserError` is shown as is: no stack trace, one clear
sentence, with suggestions where we have them.  Everything else is a bug and is logged.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can act on; ``str(exc)`` is the message to show."""


class UnknownPanel(UserError):
    pass


class BadRange(UserError):
    pass


class BadFilter(UserError):
    pass


class PrometheusUnavailable(UserError):
    """Prometheus could not be reached, timed out, or answered with an error."""


class ChartUnavailable(UserError):
    """The chart renderer failed; the text still goes out without the image."""
