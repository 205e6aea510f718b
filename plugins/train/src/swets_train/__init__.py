"""swets_train: a swets distribution (see its README)."""

__version__ = "0.1.0"
