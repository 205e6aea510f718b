"""TiDE and PatchTST: what each architecture computes (TiDE's residual block, temporal decoder and
global residual; PatchTST's patches, channel independence and flatten head)."""

from __future__ import annotations

import numpy as np

from swets_core import no_grad, registry
from swets_nn.paths import ARRAYS
from tests.models.configs import SMALL_CONFIGS, make, run

RNG = np.random.default_rng(0)


def _linear(layer, x):
    return x @ layer.weight.numpy().T + layer.bias.numpy()


def _block(block, x):
    """TiDE's residual block in numpy: LayerNorm(W2 relu(W1 x) + Ws x) (eval: no dropout)."""
    y = _linear(block.output, np.maximum(_linear(block.hidden, x), 0.0)) + _linear(block.skip, x)
    if block.norm is None:
        return y
    mean = y.mean(axis=-1, keepdims=True)
    var = y.var(axis=-1, keepdims=True)
    return (y - mean) / np.sqrt(var + 1e-5) * block.norm.weight.numpy() + block.norm.bias.numpy()


def test_tide_is_encoder_decoder_temporal_decoder_and_global_residual():
    model = make("tide", n_future_features=2)
    x = RNG.standard_normal((3, 6, 2))
    future = RNG.standard_normal((3, 3, 2))
    y = x[:, :, 0]
    past = _block(model.past_projection, x[:, :, 1:]).reshape(3, -1)
    fut = _block(model.future_projection, future)  # (3, H, temporal_width)
    h = np.concatenate([y, past, fut.reshape(3, -1)], axis=1)
    for block in (*model.encoder, *model.decoder):
        h = _block(block, h)
    h = np.concatenate([h.reshape(3, 3, model.decoder_output_dim), fut], axis=2)
    want = _block(model.temporal_decoder, h)[:, :, 0] + _linear(model.global_skip, y)
    np.testing.assert_allclose(run(model, x, future=future), want, rtol=1e-10, atol=1e-12)


def test_tide_known_covariate_of_one_step_reaches_that_step_through_the_temporal_decoder():
    """With the encoder's inputs fixed, the temporal decoder reads step t's projected covariates:
    a change of step t's covariates changes the forecast of step t."""
    model = make("tide", n_future_features=1, num_encoder_layers=1, num_decoder_layers=1)
    x = RNG.standard_normal((2, 6, 2))
    future = RNG.standard_normal((2, 3, 1))
    base = run(model, x, future=future)
    bumped = future.copy()
    bumped[:, 1, 0] += 3.0
    assert not np.allclose(run(model, x, future=bumped)[:, 1], base[:, 1])
    assert model.temporal_decoder.norm is None  # no layer norm over a step's single output


def test_patch_index_cuts_the_paper_patches():
    from swets_models.patchtst import patch_index

    # lookback 336, patch 16, stride 8 with end padding: the paper's 42 patches
    assert patch_index(336, 16, 8, True).shape == (42, 16)
    assert patch_index(336, 16, 8, False).shape == (41, 16)
    index = patch_index(8, 4, 2, True)
    np.testing.assert_array_equal(
        index, [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 7, 7]]
    )  # the last patch reads the padding: copies of the last value


def test_patchtst_is_patches_projection_positions_encoder_and_flatten_head():
    from swets_core import Tensor

    model = make("patchtst", instance_norm=False, instance_norm_affine=False, num_layers=1)
    x = RNG.standard_normal((3, 8, 1))
    patches = x[:, :, 0][:, [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 7, 7]]]
    h = _linear(model.patch_proj, patches) + model.pos_embedding.numpy()
    with no_grad():
        h = model.layers[0](Tensor(h)).numpy()
    want = _linear(model.head, h.reshape(3, -1))
    np.testing.assert_allclose(run(model, x), want, rtol=1e-10, atol=1e-12)


def test_patchtst_batch_norm_layer_normalizes_each_feature_over_batch_and_patches():
    """In training mode (batch statistics) the attention block's output, before its affine
    parameters, has mean 0 and variance 1 per model feature over the batch and the patches."""
    from swets_core import Tensor

    model = make("patchtst", dropout=0.0).train()
    layer = model.layers[0]
    h = RNG.standard_normal((5, model.n_patches, model.d_model))
    with no_grad():
        attended, _ = layer.self_attn(Tensor(h), Tensor(h), Tensor(h), None, False)
        # the layer's norm step on (B, patches, d_model)
        normed = layer._norm(ARRAYS, layer.norm_attn, h + attended.numpy())
    np.testing.assert_allclose(normed.mean(axis=(0, 1)), 0.0, atol=1e-10)
    np.testing.assert_allclose(normed.var(axis=(0, 1)), 1.0, rtol=1e-3)


def test_patchtst_gradients_in_training_mode_with_batch_statistics():
    """BatchNorm in training mode normalizes by the batch's own statistics: a function of every
    window of the batch, gradient-checked in float64 (dropout off)."""
    from swets_core.testing import gradcheck

    model = make("patchtst", dropout=0.0).train()
    gradcheck(lambda xx: model(xx), RNG.standard_normal((3, 8, 1)))


def test_patchtst_revin_is_affine_whenever_it_is_on_unless_told_otherwise():
    """A job that turns instance normalization off (``--no-instance-norm``) builds the model."""
    on = registry.create("models", "patchtst", **SMALL_CONFIGS["patchtst"], seed=0)
    assert on.config()["instance_norm"] and on.config()["instance_norm_affine"]
    off = registry.create(
        "models", "patchtst", **SMALL_CONFIGS["patchtst"], instance_norm=False, seed=0
    )
    assert off.revin is None and off.config()["instance_norm_affine"] is False
    plain = make("patchtst", instance_norm_affine=False)
    assert plain.revin is not None and not plain.revin.affine
