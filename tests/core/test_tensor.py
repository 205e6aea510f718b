from __future__ import annotations

import numpy as np
import pytest

from swets_core import DType, Parameter, Tensor
from swets_core.errors import ArgumentTypeError, DTypeError, ShapeError


def test_default_dtypes():
    assert Tensor([1.0, 2.0]).dtype is DType.float32
    assert Tensor([1, 2]).dtype is DType.int64
    assert Tensor([True]).dtype is DType.bool
    assert Tensor(np.zeros(2)).dtype is DType.float64  # numpy arrays keep their dtype
    assert Tensor(np.zeros(2, dtype=np.float16)).dtype is DType.float32


def test_properties_and_views():
    arr = np.arange(6.0).reshape(2, 3)
    t = Tensor(arr)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6
    assert np.shares_memory(t.numpy(), arr)
    assert np.asarray(t) is arr
    assert Tensor(arr).id != t.id
    assert "shape=(2, 3)" in repr(t) and "float64" in repr(t)


def test_constructors_with_explicit_generator():
    a = Tensor.randn(3, 4, rng=np.random.default_rng(0))
    b = Tensor.randn(3, 4, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype is DType.float32
    assert Tensor.zeros(2, 2).numpy().sum() == 0
    assert Tensor.ones((2, 3), dtype="float64").dtype is DType.float64
    with pytest.raises(
        ArgumentTypeError, match=r"rng must be a numpy\.random\.Generator .* got int"
    ):
        Tensor.randn(2, rng=0)


def test_bad_dtypes():
    with pytest.raises(DTypeError, match="complex"):
        Tensor(np.zeros(2, dtype=np.complex64))
    with pytest.raises(DTypeError, match="unsupported dtype"):
        DType.of("float16")
    with pytest.raises(DTypeError, match="float32 or float64"):
        Parameter(np.zeros(2, dtype=np.int64))


def test_item_and_bool_errors():
    with pytest.raises(ShapeError, match="one element"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(ShapeError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))
    assert Tensor([3.0]).item() == 3.0
