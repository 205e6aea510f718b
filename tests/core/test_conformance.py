"""The conformance kit's check_model as the plugin guide uses it: float64 data into a float32 model,
with or without a checkpoint serializer installed."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from swets_core import Module, Parameter, Tensor, as_tensor, hookimpl, testing
from swets_core.errors import DTypeError
from swets_core.registry import Registry, activate


class LastValueLinear(Module):
    """A linear map from the lookback window of the target to the horizon (float32 by default)."""

    registry_name: ClassVar[str] = "last_value_linear"

    def __init__(self, lookback: int, horizon: int, seed: int = 0, dtype: str = "float32") -> None:
        super().__init__()
        self._config = {"lookback": lookback, "horizon": horizon, "seed": seed, "dtype": dtype}
        rng = np.random.default_rng(seed)
        self.weight = Parameter(rng.normal(0, 0.1, (lookback, horizon)).astype(dtype))

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        if x.dtype != self.weight.dtype:  # as every swets model: no silent promotion
            raise DTypeError(
                f"LastValueLinear: input {x.dtype.value}, parameters {self.weight.dtype.value}"
            )
        return x[:, :, 0] @ self.weight


class Plugin:
    @hookimpl
    def swets_register_models(self, register):
        register("last_value_linear", LastValueLinear)


def _world(monkeypatch, serializers: bool) -> Registry:
    if not serializers:
        monkeypatch.setenv("SWETS_DISABLE_PLUGINS", "swets-serde-msgpack")
    reg = Registry()
    reg.add_plugin(Plugin(), name="kit_test", distribution="kit-test")
    return reg


def test_float64_data_runs_on_a_float32_model(monkeypatch):
    x = np.random.default_rng(0).standard_normal((3, 8, 2))  # float64, as numpy makes it
    with activate(_world(monkeypatch, serializers=True)):
        testing.check_model("last_value_linear", {"lookback": 8, "horizon": 2}, x)
        testing.check_model("last_value_linear", {"lookback": 8, "horizon": 2}, Tensor(x))
        testing.check_model(
            "last_value_linear", {"lookback": 8, "horizon": 2, "dtype": "float64"}, x
        )


def test_without_a_serializer_the_in_memory_round_trip_still_runs(monkeypatch):
    x = np.random.default_rng(1).standard_normal((2, 8, 1))
    with activate(_world(monkeypatch, serializers=False)) as reg:
        assert reg.names("serializers") == []
        testing.check_model("last_value_linear", {"lookback": 8, "horizon": 3}, x)
        with pytest.raises(
            AssertionError, match="needs a checkpoint serializer and none is installed"
        ):
            testing.check_model(
                "last_value_linear", {"lookback": 8, "horizon": 3}, x, checkpoint=True
            )


def test_a_state_that_does_not_rebuild_the_model_fails(monkeypatch):
    class Forgetful(LastValueLinear):
        """Its output depends on a serial number that neither config() nor the state holds."""

        registry_name: ClassVar[str] = "forgetful"
        made: ClassVar[int] = 0

        def __init__(self, **config: Any) -> None:
            super().__init__(**config)
            Forgetful.made += 1
            self.serial = float(Forgetful.made)

        def forward(self, x: Tensor) -> Tensor:
            return x[:, :, 0] @ self.weight + self.serial

    class Both:
        @hookimpl
        def swets_register_models(self, register):
            register("forgetful", Forgetful)

    monkeypatch.setenv("SWETS_DISABLE_PLUGINS", "swets-serde-msgpack")
    reg = Registry()
    reg.add_plugin(Both(), name="forgetful_test", distribution="kit-test")
    x = np.random.default_rng(2).standard_normal((2, 8, 1))
    with activate(reg), pytest.raises(AssertionError, match="rebuilt from config"):
        testing.check_model("forgetful", {"lookback": 8, "horizon": 3}, x)
