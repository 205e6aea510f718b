"""What the layers with learned parameters share, written once: the name errors give a layer, its
sizes checked, the generator its initialisation draws from, the dtype of its parameters, and
PyTorch's default initialisation of an affine weight and bias (Linear, Conv1d)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core import Module, Parameter
from swets_nn import init
from swets_nn._common import RngLike, as_generator, float_dtype, positive_int


class LayerBase(Module):
    """Base class of the parametrized layers.

    A layer's ``__init__`` calls ``Module.__init__`` (``super().__init__()``), then
    :meth:`_init_layer` with its ``rng``, ``dtype`` and sizes; ``reset_parameters(rng=None)`` draws
    from :meth:`_generator`.
    """

    _kind = "LayerBase"
    """How messages name the layer: its class's name (set for every subclass)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._kind = cls.__name__

    def _init_layer(
        self, rng: RngLike, dtype: Any, *, allow_zero: bool = False, **sizes: Any
    ) -> np.dtype:
        """Check each of ``sizes`` (an int ``> 0``, ``>= 0`` with ``allow_zero``) and store it as
        the attribute of that name, keep ``rng`` resolved as the layer's generator, and return the
        numpy dtype of its parameters (float32 or float64). Errors name the layer and the
        argument."""
        kind = self._kind
        for name, value in sizes.items():
            setattr(self, name, positive_int(value, name, kind, allow_zero=allow_zero))
        self._rng = as_generator(rng, kind)
        return float_dtype(dtype, kind)

    def _generator(self, rng: RngLike) -> np.random.Generator:
        """The generator a re-initialisation draws from: ``rng`` when given, else the layer's."""
        return self._rng if rng is None else as_generator(rng, self._kind)

    def _affine_parameters(self, shape: tuple[int, ...], bias: bool, dtype: np.dtype) -> None:
        """``weight`` of ``shape`` and, with ``bias``, ``bias`` of ``(shape[0],)`` (else None), as
        zeros until :meth:`_reset_affine` draws them."""
        self.weight = Parameter(np.zeros(shape, dtype))
        self.bias = Parameter(np.zeros(shape[0], dtype)) if bias else None

    def _reset_affine(self, gen: np.random.Generator) -> None:
        """PyTorch's default of Linear and Conv: ``weight`` ~ kaiming_uniform(a=sqrt(5)), i.e.
        U(-b, b) with ``b = 1 / sqrt(fan_in)``, and ``bias`` ~ U(-b, b) (0 for an empty fan)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5.0), rng=gen)
        if self.bias is not None:
            fan_in, _ = init.fan_in_and_fan_out(self.weight._data.shape)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, rng=gen)
