"""swets_losses: losses built from the registered ops, so the tape differentiates them.

``mse``, ``mae``, ``huber``, ``cross_entropy``, ``quantile``, ``gaussian_nll``, ``mape``, ``smape``,
``mase``, and the distribution losses ``normal_nll``, ``student_t_nll``,
``negative_binomial_nll`` (:mod:`swets_ops.distributions`); each takes ``reduction`` (mean/sum/none) and is called as
``loss(pred, target, tape=None, *, mask=None, weights=None)``::

    loss = registry.create("losses", "quantile", quantiles=[0.1, 0.5, 0.9])
    with GradientTape() as tape:
        value = loss(model(x), y, mask=~np.isnan(y.numpy()))
"""

from swets_losses.base import Loss
from swets_losses.classification import CrossEntropyLoss
from swets_losses.likelihood import NegativeBinomialNLLLoss, NormalNLLLoss, StudentTNLLLoss
from swets_losses.regression import GaussianNLLLoss, HuberLoss, MAELoss, MSELoss, QuantileLoss
from swets_losses.scale_free import MAPELoss, MASELoss, SMAPELoss

__version__ = "0.1.0"

__all__ = [
    "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HuberLoss",
    "Loss",
    "MAELoss",
    "MAPELoss",
    "MASELoss",
    "MSELoss",
    "NegativeBinomialNLLLoss",
    "NormalNLLLoss",
    "QuantileLoss",
    "SMAPELoss",
    "StudentTNLLLoss",
    "__version__",
]
