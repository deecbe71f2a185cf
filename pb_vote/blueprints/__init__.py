"""HTTP: one blueprint per audience. The only code that knows about requests."""
