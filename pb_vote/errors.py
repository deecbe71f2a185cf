"""The one family of refusals the services raise. Pure: no Flask, no database.

A refusal names *why* with a ``code`` and carries the figures behind it in ``details``;
the HTTP layer words it through one catalogue (``pb_vote.blueprints.messages``), keyed by
the code, in the user's language. The subclasses only say which area refused, so a view can
catch the refusals of the service it called and let the rest through.
"""


class ServiceError(Exception):
    """A use case was refused; ``code`` names why, ``details`` carry the figures."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, **{self.details!r})"
