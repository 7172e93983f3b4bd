"""The data error, importable without torch (dataset registration must stay cheap)."""


class DataError(ValueError):
    """A dataset or file that cannot be used; the message names it and says what to do."""
