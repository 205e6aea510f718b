"""The dtypes swets tensors support."""

from __future__ import annotations

import enum

import numpy as np

from swets_core.errors import DTypeError


class DType(enum.Enum):
    """Supported tensor dtypes. ``float32`` is the default for floating-point data."""

    float32 = "float32"
    float64 = "float64"
    int32 = "int32"
    int64 = "int64"
    bool = "bool"

    @property
    def numpy(self) -> np.dtype:
        """The matching :class:`numpy.dtype`."""
        return _TO_NP[self]

    @property
    def is_floating(self) -> bool:
        """True for float32 and float64, the dtypes gradients flow through."""
        return self in (DType.float32, DType.float64)

    @classmethod
    def of(cls, value: object) -> DType:
        """Resolve a DType, a numpy dtype or a dtype name (``"float32"``) to a :class:`DType`."""
        if isinstance(value, DType):
            return value
        try:
            return _FROM_NP[np.dtype(value)]  # type: ignore[arg-type]
        except (KeyError, TypeError) as exc:
            names = ", ".join(d.value for d in cls)
            raise DTypeError(f"unsupported dtype {value!r}; swets supports {names}") from exc

    @classmethod
    def floating(cls, value: object) -> DType:
        """:meth:`of` for the dtypes parameters may have: float32 or float64 (else DTypeError)."""
        d = cls.of(value)
        if not d.is_floating:
            raise DTypeError(f"not a floating dtype: {d.value} (parameters are float32 or float64)")
        return d


_TO_NP = {d: np.dtype(d.value) for d in DType}
_FROM_NP = {np.dtype(d.value): d for d in DType}

DEFAULT_FLOAT = DType.float32

__all__ = ["DEFAULT_FLOAT", "DType"]
