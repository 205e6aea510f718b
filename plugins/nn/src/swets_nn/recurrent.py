"""Recurrent layers: LSTM, GRU (stacked, optionally bidirectional) and their cells.

The stacked layers run one fused op per layer and direction (``lstm`` / ``gru`` over the whole
sequence), so the time loop lives inside the op; a unidirectional LSTM stack without dropout between
its layers runs the ``lstm_stack`` op, the whole stack in one node (one time loop when nothing
records). Parameter names and gate orders are PyTorch's (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``; LSTM gates ``i, f, g, o``, GRU gates ``r, z, n``), so
a PyTorch state dict loads directly.

Each layer's computation is written once (``_compute``, see :mod:`swets_nn.paths`): ``forward`` runs
it on Tensors when a tape records and on arrays otherwise, ``forward_arrays`` on arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core import Parameter, Tensor, active_tape
from swets_core.errors import ConfigError, ShapeError
from swets_nn import init
from swets_nn._common import (
    RngLike,
    check_shape,
    child_generator,
    describe,
    positive_int,
    probability,
)
from swets_nn._layer import LayerBase
from swets_nn.paths import (
    ARRAYS,
    TENSORS,
    ForwardPath,
    as_array,
    as_tensors,
    to_input,
    to_input_array,
)

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell"]


class _Recurrent(LayerBase):
    """What the stacked layers and the cells share: gate parameters ~ U(-1/sqrt(H), 1/sqrt(H)),
    and running their one computation on the path that applies."""

    _gates = 4
    _state_names: tuple[str, ...] = ("h_0", "c_0")

    def _gate_parameters(self, in_size: int, bias: bool, dtype: np.dtype) -> list[Parameter]:
        """``[w_ih (G*H, in_size), w_hh (G*H, H)]`` and, with ``bias``, ``b_ih``, ``b_hh`` ``(G*H,)``."""
        g, h = self._gates, self.hidden_size
        params = [
            Parameter(np.zeros((g * h, in_size), dtype)),
            Parameter(np.zeros((g * h, h), dtype)),
        ]
        if bias:
            params += [Parameter(np.zeros(g * h, dtype)), Parameter(np.zeros(g * h, dtype))]
        return params

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        gen = self._generator(rng)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self._all_weights():
            init.uniform_(p, -bound, bound, rng=gen)

    def _all_weights(self) -> list[Parameter]:
        raise NotImplementedError

    def _split_states(self, hx: Any) -> list[Any]:
        """The initial states given as ``hx`` (None: every state zero), in :attr:`_state_names`."""
        if len(self._state_names) == 1:
            return [hx]
        if hx is None:
            return [None, None]
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            names = ", ".join(self._state_names)
            raise ConfigError(f"{describe(self)}: hx must be a pair ({names}), got {type(hx)}")
        return list(hx)

    def _check_state(
        self, s: Any, name: str, shape: tuple[int, ...], dtype: np.dtype, convert: Any
    ) -> Any:
        """A given state converted and checked to be ``shape`` (None stays None: the ops start
        from zeros)."""
        if s is None:
            return None
        if isinstance(s, (tuple, list)):
            raise ConfigError(
                f"{describe(self)}: {name} must be a tensor, got a {type(s).__name__}"
            )
        s = convert(s, self._kind, dtype)
        if s.shape != shape:
            raise ShapeError(self._state_error(name, shape, s.shape))
        return s

    def _state_error(self, name: str, shape: tuple[int, ...], got: tuple[int, ...]) -> str:
        return f"{describe(self)}: expected {name} of shape {shape}, got shape {got}"

    def _run(self, x: Any, hx: Any, arrays: bool) -> Any:
        """Check the inputs, then run :meth:`_compute` on the path that applies: arrays for
        ``forward_arrays`` and whenever nothing records (the result wrapped as Tensors)."""
        convert = to_input_array if arrays else to_input
        x, states, unbatched = self._inputs(x, self._split_states(hx), convert)
        if arrays:
            return self._compute(ARRAYS, x, states, unbatched)
        if active_tape() is None:
            states = [as_array(s) for s in states]
            return as_tensors(self._compute(ARRAYS, x._data, states, unbatched))
        return self._compute(TENSORS, x, states, unbatched)

    def _inputs(self, x: Any, states: list[Any], convert: Any) -> tuple[Any, list[Any], bool]:
        raise NotImplementedError

    def _compute(self, p: ForwardPath, x: Any, states: list[Any], unbatched: bool) -> Any:
        raise NotImplementedError


class _RNNBase(_Recurrent):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        rng: RngLike = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        kind = self._kind
        np_dtype = self._init_layer(rng, dtype, input_size=input_size, hidden_size=hidden_size)
        self.num_layers = positive_int(num_layers, "num_layers", kind)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = probability(dropout, "dropout", kind)
        self.bidirectional = bool(bidirectional)
        dirs = 2 if self.bidirectional else 1
        self._names: list[tuple[str, ...]] = []
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else self.hidden_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                names = (f"weight_ih{sfx}", f"weight_hh{sfx}")
                if self.bias:
                    names += (f"bias_ih{sfx}", f"bias_hh{sfx}")
                for name, p in zip(names, self._gate_parameters(in_size, self.bias, np_dtype)):
                    setattr(self, name, p)
                self._names.append(names)
        self.reset_parameters()
        self.rng: np.random.Generator = child_generator(self._rng)

    @property
    def num_directions(self) -> int:
        """2 when bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    def _all_weights(self) -> list[Parameter]:
        return [getattr(self, n) for names in self._names for n in names]

    def _weights(self, p: ForwardPath, row: int) -> list[Any]:
        """The weights of layer-and-direction ``row`` on path ``p`` (4, biases None when absent)."""
        w = [p.value(getattr(self, n)) for n in self._names[row]]
        return w if self.bias else [*w, None, None]

    def _inputs(self, x: Any, states: list[Any], convert: Any) -> tuple[Any, list[Any], bool]:
        dtype = self.weight_ih_l0._data.dtype
        x = convert(x, self._kind, dtype)
        xs = x.shape
        if len(xs) not in (2, 3) or xs[-1] != self.input_size:
            if self.batch_first:
                expected: tuple[Any, ...] = ("N", "L", self.input_size)
            else:
                expected = ("L", "N", self.input_size)
            check_shape(x, self, expected, (2, 3), {-1: self.input_size})
        unbatched = len(xs) == 2
        if states[0] is None and states[-1] is None:
            return x, states, unbatched
        rows, h = self.num_layers * self.num_directions, self.hidden_size
        if unbatched:
            shape: tuple[int, ...] = (rows, h)
        else:
            shape = (rows, xs[0 if self.batch_first else 1], h)
        names = self._state_names
        return (
            x,
            [self._check_state(s, n, shape, dtype, convert) for s, n in zip(states, names)],
            unbatched,
        )

    def _state_error(self, name: str, shape: tuple[int, ...], got: tuple[int, ...]) -> str:
        batch = "" if len(shape) == 2 else ", N"
        return (
            f"{describe(self)}: expected {name} of shape {shape} (num_layers * num_directions"
            f"{batch}, hidden_size), got shape {got}"
        )

    def _compute(self, p: ForwardPath, x: Any, states: list[Any], unbatched: bool) -> Any:
        """The layer on path ``p``: returns ``(output, (final state per state))``."""
        if unbatched:
            x = p.unsqueeze(x, 0)
            states = [None if s is None else p.unsqueeze(s, 1) for s in states]
        elif not self.batch_first:
            x = x.transpose(1, 0, 2)
        out, finals = self._layers(p, x, states)
        if unbatched:
            return p.squeeze(out, 0), tuple(p.squeeze(s, 1) for s in finals)
        if not self.batch_first:
            out = out.transpose(1, 0, 2)
        return out, tuple(finals)

    def _layers(self, p: ForwardPath, x: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        """Every layer and direction on batch-first ``x`` and ``states`` ``(rows, N, H)``: the output
        ``(N, L, D * H)`` and, per state, the final states ``(rows, N, H)``."""
        dirs = self.num_directions
        finals: list[list[Any]] = [[] for _ in states]
        out = x
        for layer in range(self.num_layers):
            ys = []
            for d in range(dirs):
                row = layer * dirs + d
                inp = out if d == 0 else p.op("flip", out, axis=1)
                init_states = [None if s is None else s[row] for s in states]
                res = p.op(self._op, inp, *init_states, *self._weights(p, row))
                for f, s in zip(finals, res[1:]):
                    f.append(s)
                ys.append(res[0] if d == 0 else p.op("flip", res[0], axis=1))
            out = ys[0] if dirs == 1 else p.op("concat", *ys, axis=2)
            if self.dropout > 0.0 and self.training and layer < self.num_layers - 1:
                out = p.op("dropout", out, p=self.dropout, rng=self.rng, training=True)
        return out, [p.op("stack", *f, axis=0) for f in finals]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        s += f", batch_first={self.batch_first}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class LSTM(_RNNBase):
    """Multi-layer long short-term memory, PyTorch's ``nn.LSTM`` (``proj_size`` excepted).

    Per step (gate order i, f, g, o)::

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g                              h' = o * tanh(c')

    Args:
        input_size: features of the input ``H_in``.
        hidden_size: features of the hidden state ``H``.
        num_layers: stacked layers; layer ``k > 0`` reads the output of layer ``k - 1``.
        bias: learn ``bias_ih`` and ``bias_hh``.
        batch_first: **True by default** (unlike PyTorch): input and output are ``(N, L, *)``;
            False means ``(L, N, *)``. The states are always ``(num_layers * D, N, H)``.
        dropout: dropout on the output of every layer but the last, in training mode.
        bidirectional: add a reverse-time direction per layer (``D = 2``); outputs are concatenated.
        rng: numpy Generator or int seed for the initialisation; the inter-layer dropout uses
            ``self.rng``, a generator derived from it.
        dtype: parameter dtype.

    Shapes:
        input ``(N, L, H_in)`` (or ``(L, H_in)`` unbatched); optional ``hx = (h_0, c_0)`` each
        ``(num_layers * D, N, H)`` (``(num_layers * D, H)`` unbatched), zeros when omitted.
        Returns ``(output, (h_n, c_n))``: output ``(N, L, D * H)``, states like ``hx``.

    Parameters (per layer ``k``, suffix ``_reverse`` for the reverse direction):
        ``weight_ih_l{k} (4H, H_in or D*H)``, ``weight_hh_l{k} (4H, H)``, ``bias_ih_l{k} (4H,)``,
        ``bias_hh_l{k} (4H,)``, all ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    _gates = 4
    _op = "lstm"

    def forward(
        self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Run the sequence; returns ``(output, (h_n, c_n))``."""
        out, (h_n, c_n) = self._run(x, hx, arrays=False)
        return out, (h_n, c_n)

    def forward_arrays(
        self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """:meth:`forward` on arrays, nothing recorded: ``(output, (h_n, c_n))`` as arrays."""
        out, (h_n, c_n) = self._run(x, hx, arrays=True)
        return out, (h_n, c_n)

    def _layers(self, p: ForwardPath, x: Any, states: list[Any]) -> tuple[Any, list[Any]]:
        if self.bidirectional or (self.training and self.dropout > 0.0 and self.num_layers > 1):
            return super()._layers(p, x, states)
        # the whole unidirectional stack as one op (one time loop when nothing records)
        value = p.value
        if self.bias:
            weights = [value(getattr(self, n)) for names in self._names for n in names]
        else:
            weights = []
            for w_ih, w_hh in self._names:
                weights += (value(getattr(self, w_ih)), value(getattr(self, w_hh)), None, None)
        y, h_n, c_n = p.op("lstm_stack", x, states[0], states[1], *weights)
        return y, [h_n, c_n]


class GRU(_RNNBase):
    """Multi-layer gated recurrent unit, PyTorch's ``nn.GRU``.

    Per step (gate order r, z, n)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h

    Args and shapes as :class:`LSTM` with three gates (``3H`` rows) and a single state: the optional
    ``hx`` is ``h_0 (num_layers * D, N, H)``; returns ``(output, h_n)``.
    """

    _gates = 3
    _op = "gru"
    _state_names = ("h_0",)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run the sequence; returns ``(output, h_n)``."""
        out, (h_n,) = self._run(x, hx, arrays=False)
        return out, h_n

    def forward_arrays(
        self, x: np.ndarray, hx: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`forward` on arrays, nothing recorded: ``(output, h_n)`` as arrays."""
        out, (h_n,) = self._run(x, hx, arrays=True)
        return out, h_n


class _CellBase(_Recurrent):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        np_dtype = self._init_layer(rng, dtype, input_size=input_size, hidden_size=hidden_size)
        params = self._gate_parameters(self.input_size, bias, np_dtype)
        self.weight_ih, self.weight_hh = params[:2]
        self.bias_ih, self.bias_hh = params[2:] if bias else (None, None)
        self.reset_parameters()

    def forward(self, x: Tensor, hx: Any = None) -> Any:
        """One step; returns the new state: ``h'`` (GRU), ``(h', c')`` (LSTM)."""
        return self._run(x, hx, arrays=False)

    def forward_arrays(self, x: np.ndarray, hx: Any = None) -> Any:
        """:meth:`forward` on arrays, nothing recorded: the new state as arrays."""
        return self._run(x, hx, arrays=True)

    def _all_weights(self) -> list[Parameter]:
        if self.bias_ih is None:
            return [self.weight_ih, self.weight_hh]
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]

    def _inputs(self, x: Any, states: list[Any], convert: Any) -> tuple[Any, list[Any], bool]:
        x = convert(x, self._kind, self.weight_ih._data.dtype)
        check_shape(x, self, ("N", self.input_size), (1, 2), {-1: self.input_size})
        unbatched = len(x.shape) == 1
        shape = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
        dtype = x.dtype if type(x) is np.ndarray else x._data.dtype
        names = self._state_names
        return (
            x,
            [self._check_state(s, n, shape, dtype, convert) for s, n in zip(states, names)],
            unbatched,
        )

    def _compute(self, p: ForwardPath, x: Any, states: list[Any], unbatched: bool) -> Any:
        """One step on path ``p``: the op's output (a state, or a tuple of states)."""
        if unbatched:
            x = p.unsqueeze(x, 0)
            states = [None if s is None else p.unsqueeze(s, 0) for s in states]
        out = p.op(self._op, x, *states, *(p.value(w) for w in self._all_weights()))
        if not unbatched:
            return out
        if isinstance(out, tuple):
            return tuple(p.squeeze(s, 0) for s in out)
        return p.squeeze(out, 0)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias_ih is None:
            s += ", bias=False"
        return s


class LSTMCell(_CellBase):
    """One LSTM step, PyTorch's ``nn.LSTMCell`` (same equations and gate order as :class:`LSTM`).

    Args:
        input_size: ``H_in``. hidden_size: ``H``. bias: learn ``bias_ih`` and ``bias_hh``.
        rng: numpy Generator or int seed. dtype: parameter dtype.

    Shapes:
        input ``(N, H_in)`` or ``(H_in,)``; optional ``hx = (h, c)`` each ``(N, H)`` or ``(H,)``
        (zeros when omitted). Returns ``(h', c')`` of the same shape.

    Parameters:
        ``weight_ih (4H, H_in)``, ``weight_hh (4H, H)``, ``bias_ih (4H,)``, ``bias_hh (4H,)``,
        all ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    _gates = 4
    _op = "lstm_cell"
    _state_names = ("h", "c")


class GRUCell(_CellBase):
    """One GRU step, PyTorch's ``nn.GRUCell`` (same equations and gate order as :class:`GRU`).

    Shapes:
        input ``(N, H_in)`` or ``(H_in,)``; optional ``hx`` ``(N, H)`` or ``(H,)`` (zeros when
        omitted). Returns ``h'`` of the same shape.

    Parameters:
        ``weight_ih (3H, H_in)``, ``weight_hh (3H, H)``, ``bias_ih (3H,)``, ``bias_hh (3H,)``,
        all ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    _gates = 3
    _op = "gru_cell"
    _state_names = ("hx",)
