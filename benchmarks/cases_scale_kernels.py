"""Scale: the conv path and the Transformer at batch 1, beside PyTorch, in the scale suite.

These are cases of :mod:`benchmarks.cases_models` (where the kernels' work adds and tunes them):
the TCN training step (every ``models.tcn*_train_step`` case there, the configuration with plain
convolutions among them when it exists) and the Transformer's single-window inference. The scale
suite runs them as they are defined there, so ``./scripts/bench --suite scale`` prints every
figure of the performance issue in one run.
"""

from __future__ import annotations

from dataclasses import replace

from benchmarks.cases_models import CASES as MODEL_CASES


def _wanted(name: str) -> bool:
    tcn_step = name.startswith("models.tcn") and name.endswith("_train_step")
    return tcn_step or name == "models.transformer_inference_b1"


CASES = [
    replace(case, group=f"scale: {case.group} (beside PyTorch)")
    for case in MODEL_CASES
    if _wanted(case.name)
]
