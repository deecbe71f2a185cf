"""Use cases. Explicit arguments in, domain objects out; they flush but never commit:
the request or CLI command that calls them commits."""
