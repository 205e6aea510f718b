"""Recurrent layers: LSTM, GRU (stacked, optionally bidirectional) and their cells.

The stacked layers run one fused op per layer and direction (``lstm`` / ``gru`` over the whole
sequence), so the time loop lives inside the op. Parameter names and gate orders are PyTorch's
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``; LSTM gates
``i, f, g, o``, GRU gates ``r, z, n``), so a PyTorch state dict loads directly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core import Module, Parameter, Tensor, ops
from swets_core.autograd import active_tape
from swets_core.errors import ConfigError, ShapeError
from swets_nn import init
from swets_nn._common import (
    RngLike,
    as_generator,
    check_shape,
    child_generator,
    describe,
    float_dtype,
    positive_int,
    probability,
    to_input,
)
from swets_ops.fused_rnn import lstm_stack_infer

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell"]


class _RNNBase(Module):
    _gates = 4
    _kind = "LSTM"

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
        self.input_size = positive_int(input_size, "input_size", kind)
        self.hidden_size = positive_int(hidden_size, "hidden_size", kind)
        self.num_layers = positive_int(num_layers, "num_layers", kind)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = probability(dropout, "dropout", kind)
        self.bidirectional = bool(bidirectional)
        np_dtype = float_dtype(dtype, kind)
        h, g = self.hidden_size, self._gates
        dirs = 2 if self.bidirectional else 1
        self._names: list[tuple[str, ...]] = []
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else h * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                names = [f"weight_ih{sfx}", f"weight_hh{sfx}"]
                setattr(self, names[0], Parameter(np.zeros((g * h, in_size), np_dtype)))
                setattr(self, names[1], Parameter(np.zeros((g * h, h), np_dtype)))
                if self.bias:
                    names += [f"bias_ih{sfx}", f"bias_hh{sfx}"]
                    setattr(self, names[2], Parameter(np.zeros(g * h, np_dtype)))
                    setattr(self, names[3], Parameter(np.zeros(g * h, np_dtype)))
                self._names.append(tuple(names))
        self._rng = as_generator(rng, kind)
        self.reset_parameters()
        self.rng: np.random.Generator = child_generator(self._rng)

    @property
    def num_directions(self) -> int:
        """2 when bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        gen = self._rng if rng is None else as_generator(rng, self._kind)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for names in self._names:
            for name in names:
                init.uniform_(getattr(self, name), -bound, bound, rng=gen)

    def _weights(self, index: int) -> tuple[Parameter, ...]:
        return tuple(getattr(self, n) for n in self._names[index])

    def _prepare(self, x: Any) -> tuple[Tensor, bool]:
        x = to_input(x, self._kind, self.weight_ih_l0._data.dtype)
        if self.batch_first:
            expected: tuple[Any, ...] = ("N", "L", self.input_size)
        else:
            expected = ("L", "N", self.input_size)
        check_shape(x, self, expected, (2, 3), {-1: self.input_size})
        unbatched = x._data.ndim == 2
        if unbatched:
            x = ops.unsqueeze(x, axis=0)
        elif not self.batch_first:
            x = ops.transpose(x, axes=(1, 0, 2))
        return x, unbatched

    def _state(self, s: Any, name: str, batch: int, unbatched: bool, dtype: np.dtype) -> Any:
        rows = self.num_layers * self.num_directions
        h = self.hidden_size
        if s is None:
            return np.zeros((rows, batch, h), dtype)
        if isinstance(s, (tuple, list)):
            raise ConfigError(
                f"{describe(self)}: {name} must be a tensor, got a {type(s).__name__}"
            )
        s = to_input(s, self._kind, dtype)
        expected = (rows, h) if unbatched else (rows, batch, h)
        if s._data.shape != expected:
            raise ShapeError(
                f"{describe(self)}: expected {name} of shape {expected} (num_layers * num_directions"
                f"{'' if unbatched else ', N'}, hidden_size), got shape {s._data.shape}"
            )
        if unbatched:
            s = ops.unsqueeze(s, axis=1)
        return s

    def _run(self, x: Tensor, states: list[Any]) -> tuple[Tensor, list[list[Any]]]:
        """Run every layer and direction; ``states`` are ``(rows, N, H)``. Returns the output
        ``(N, L, D * H)`` and, per state, the list of final states (one per row)."""
        dirs = self.num_directions
        finals: list[list[Any]] = [[] for _ in states]
        out = x
        for layer in range(self.num_layers):
            ys = []
            for d in range(dirs):
                row = layer * dirs + d
                inp = out if d == 0 else ops.flip(out, axis=1)
                init_states = [s[row] for s in states]
                res = self._cell_op(inp, init_states, self._weights(row))
                y = res[0]
                for f, s in zip(finals, res[1:]):
                    f.append(s)
                ys.append(y if d == 0 else ops.flip(y, axis=1))
            out = ys[0] if dirs == 1 else ops.concat(ys, axis=2)
            if self.dropout > 0.0 and self.training and layer < self.num_layers - 1:
                out = ops.dropout(out, p=self.dropout, rng=self.rng, training=True)
        return out, finals

    def _cell_op(self, x: Tensor, states: list[Any], weights: tuple[Parameter, ...]) -> tuple:
        raise NotImplementedError

    def _finish(self, out: Tensor, finals: list[Any], unbatched: bool) -> tuple[Tensor, list]:
        stacked = [ops.stack(f, axis=0) for f in finals]
        if unbatched:
            out = ops.squeeze(out, axis=0)
            stacked = [ops.squeeze(s, axis=1) for s in stacked]
        elif not self.batch_first:
            out = ops.transpose(out, axes=(1, 0, 2))
        return out, stacked

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
    _kind = "LSTM"

    def forward(
        self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Run the sequence; returns ``(output, (h_n, c_n))``."""
        x, unbatched = self._prepare(x)
        dtype = x._data.dtype
        n = x._data.shape[0]
        if hx is None:
            h0 = c0 = None
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ConfigError(f"{describe(self)}: hx must be a pair (h_0, c_0), got {type(hx)}")
            h0, c0 = hx
        h0 = self._state(h0, "h_0", n, unbatched, dtype)
        c0 = self._state(c0, "c_0", n, unbatched, dtype)
        if self._inference_stack_applies():
            return self._infer(x, h0, c0, unbatched)
        out, finals = self._run(x, [h0, c0])
        out, (h_n, c_n) = self._finish(out, finals, unbatched)
        return out, (h_n, c_n)

    def _inference_stack_applies(self) -> bool:
        """True when nothing records and every layer runs forward in time without dropout: the
        whole stack then runs in one time loop (:func:`swets_ops.fused_rnn.lstm_stack_infer`)."""
        return (
            active_tape() is None
            and not self.bidirectional
            and not (self.training and self.dropout > 0.0 and self.num_layers > 1)
        )

    def _stack_weights(self) -> list[tuple[Any, Any, Any, Any]]:
        weights = []
        for row in range(self.num_layers):
            w = [p._data for p in self._weights(row)]
            weights.append((w[0], w[1], *(w[2:] if self.bias else (None, None))))
        return weights

    def infer_arrays(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The layer on a batch-first array ``x (N, L, input_size)`` with zero initial states, when
        nothing records: ``(output (N, L, H), h_n, c_n (num_layers, N, H))`` as arrays, computed
        by the one-loop inference path of :meth:`forward`. None when that path does not apply (a
        tape records, a bidirectional layer, dropout between layers in training mode): use
        :meth:`forward` then. For models' tape-free forwards: no Tensor is created."""
        if not self._inference_stack_applies():
            return None
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ShapeError(
                f"{describe(self)}: infer_arrays expects (N, L, {self.input_size}), got {x.shape}"
            )
        return lstm_stack_infer(x, self._stack_weights())

    def _infer(
        self, x: Tensor, h0: Any, c0: Any, unbatched: bool
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        y, h_n, c_n = lstm_stack_infer(
            x._data,
            self._stack_weights(),
            h0._data if isinstance(h0, Tensor) else h0,
            c0._data if isinstance(c0, Tensor) else c0,
        )
        if unbatched:
            return Tensor(y[0]), (Tensor(h_n[:, 0]), Tensor(c_n[:, 0]))
        if not self.batch_first:
            y = y.transpose(1, 0, 2)
        return Tensor(y), (Tensor(h_n), Tensor(c_n))

    def _cell_op(self, x: Tensor, states: list[Any], weights: tuple[Parameter, ...]) -> tuple:
        return ops.lstm(x, states[0], states[1], *weights)


class GRU(_RNNBase):
    """Multi-layer gated recurrent unit, PyTorch's ``nn.GRU``.

    Per step (gate order r, z, n)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h

    Args and shapes as :class:`LSTM` with three gates (``3H`` rows) and a single state: the optional
    ``hx`` is ``h_0 (num_layers * D, N, H)``; returns ``(output, h_n)``.
    """

    _gates = 3
    _kind = "GRU"

    def forward(self, x: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Run the sequence; returns ``(output, h_n)``."""
        x, unbatched = self._prepare(x)
        h0 = self._state(hx, "h_0", x._data.shape[0], unbatched, x._data.dtype)
        out, finals = self._run(x, [h0])
        out, (h_n,) = self._finish(out, finals, unbatched)
        return out, h_n

    def _cell_op(self, x: Tensor, states: list[Any], weights: tuple[Parameter, ...]) -> tuple:
        return ops.gru(x, states[0], *weights)


class _CellBase(Module):
    _gates = 4
    _kind = "LSTMCell"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        kind = self._kind
        self.input_size = positive_int(input_size, "input_size", kind)
        self.hidden_size = positive_int(hidden_size, "hidden_size", kind)
        np_dtype = float_dtype(dtype, kind)
        g, h = self._gates, self.hidden_size
        self.weight_ih = Parameter(np.zeros((g * h, self.input_size), np_dtype))
        self.weight_hh = Parameter(np.zeros((g * h, h), np_dtype))
        self.bias_ih = Parameter(np.zeros(g * h, np_dtype)) if bias else None
        self.bias_hh = Parameter(np.zeros(g * h, np_dtype)) if bias else None
        self._rng = as_generator(rng, kind)
        self.reset_parameters()

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        gen = self._rng if rng is None else as_generator(rng, self._kind)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            if p is not None:
                init.uniform_(p, -bound, bound, rng=gen)

    def _weights(self) -> tuple[Parameter, ...]:
        if self.bias_ih is None:
            return self.weight_ih, self.weight_hh
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _prepare(self, x: Any) -> tuple[Tensor, bool]:
        x = to_input(x, self._kind, self.weight_ih._data.dtype)
        check_shape(x, self, ("N", self.input_size), (1, 2), {-1: self.input_size})
        unbatched = x._data.ndim == 1
        if unbatched:
            x = ops.unsqueeze(x, axis=0)
        return x, unbatched

    def _state(self, s: Any, name: str, batch: int, unbatched: bool, dtype: np.dtype) -> Any:
        h = self.hidden_size
        if s is None:
            return np.zeros((batch, h), dtype)
        if isinstance(s, (tuple, list)):
            raise ConfigError(
                f"{describe(self)}: {name} must be a tensor, got a {type(s).__name__}"
            )
        s = to_input(s, self._kind, dtype)
        expected = (h,) if unbatched else (batch, h)
        if s._data.shape != expected:
            raise ShapeError(
                f"{describe(self)}: expected {name} of shape {expected}, got shape {s._data.shape}"
            )
        return ops.unsqueeze(s, axis=0) if unbatched else s

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
    _kind = "LSTMCell"

    def forward(self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """One step; returns ``(h', c')``."""
        x, unbatched = self._prepare(x)
        n, dtype = x._data.shape[0], x._data.dtype
        if hx is None:
            h = c = None
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ConfigError(f"{describe(self)}: hx must be a pair (h, c), got {type(hx)}")
            h, c = hx
        h = self._state(h, "h", n, unbatched, dtype)
        c = self._state(c, "c", n, unbatched, dtype)
        h1, c1 = ops.lstm_cell(x, h, c, *self._weights())
        if unbatched:
            return ops.squeeze(h1, axis=0), ops.squeeze(c1, axis=0)
        return h1, c1


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
    _kind = "GRUCell"

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        """One step; returns ``h'``."""
        x, unbatched = self._prepare(x)
        h = self._state(hx, "hx", x._data.shape[0], unbatched, x._data.dtype)
        h1 = ops.gru_cell(x, h, *self._weights())
        return ops.squeeze(h1, axis=0) if unbatched else h1
