"""swets-nn: neural-network layers with PyTorch-level semantics, built on the swets-ops ops.

Every layer subclasses :class:`swets_core.Module`, takes ``rng`` (a numpy Generator or an int seed) and
``dtype`` (``"float32"`` by default), follows PyTorch's initialisation, and is registered under a
snake_case name (``swets_core.registry.create("layers", "linear", in_features=8, out_features=4)``).
Sequences are batch-first by default.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_nn import init
from swets_nn.activation import ELU, GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softplus, Tanh
from swets_nn.attention import MultiheadAttention, causal_mask
from swets_nn.container import LayerDict, LayerList, Sequential
from swets_nn.conv import Conv1d
from swets_nn.dropout import Dropout, seed_dropout
from swets_nn.embedding import Embedding
from swets_nn.linear import Identity, Linear
from swets_nn.normalization import BatchNorm1d, LayerNorm
from swets_nn.recurrent import GRU, LSTM, GRUCell, LSTMCell
from swets_nn.transformer import TransformerEncoder, TransformerEncoderLayer, clone_layer

LAYERS: dict[str, type] = {
    "linear": Linear,
    "identity": Identity,
    "conv1d": Conv1d,
    "lstm": LSTM,
    "lstm_cell": LSTMCell,
    "gru": GRU,
    "gru_cell": GRUCell,
    "layer_norm": LayerNorm,
    "batch_norm1d": BatchNorm1d,
    "dropout": Dropout,
    "embedding": Embedding,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "silu": SiLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softplus": Softplus,
    "multihead_attention": MultiheadAttention,
    "transformer_encoder_layer": TransformerEncoderLayer,
    "transformer_encoder": TransformerEncoder,
    "sequential": Sequential,
    "layer_list": LayerList,
    "layer_dict": LayerDict,
}
"""Registry name -> layer class, as registered by the plugin."""

__all__ = [
    "ELU",
    "GELU",
    "GRU",
    "LAYERS",
    "LSTM",
    "BatchNorm1d",
    "Conv1d",
    "Dropout",
    "Embedding",
    "GRUCell",
    "Identity",
    "LSTMCell",
    "LayerDict",
    "LayerList",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MultiheadAttention",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "causal_mask",
    "clone_layer",
    "init",
    "seed_dropout",
]
