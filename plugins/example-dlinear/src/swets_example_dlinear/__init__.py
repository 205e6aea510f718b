"""swets-example-dlinear: DLinear and its building blocks as a swets plugin."""

__version__ = "1.0.0"
