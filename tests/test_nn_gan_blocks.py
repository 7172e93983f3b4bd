"""ganzoo.nn's spectral-norm, self-attention, conditional-BN, projection and orthogonal-regularisation blocks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo.nn.attention import SelfAttention
from ganzoo.nn.conditional_norm import ClassConditionalBatchNorm2d, SharedConditionalBatchNorm2d
from ganzoo.nn.init import gan_init_
from ganzoo.nn.orthogonal import orthogonal_penalty
from ganzoo.nn.snresnet import DBlock, GBlock, ProjectionHead, SNResNetDiscriminator, SNResNetGenerator
from ganzoo.nn.spectral import (
    largest_singular_value,
    refresh_spectral_norms,
    sn_conv2d,
    sn_linear,
    spectral_norm_layers,
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _u(layer: nn.Module) -> torch.Tensor:
    return next(norm for _, norm in spectral_norm_layers(layer))._u


def test_spectral_norm_bounds_the_weight_and_keeps_u_in_checkpoints() -> None:
    layer = sn_linear(20, 30)
    with torch.no_grad():
        layer.parametrizations.weight.original.mul_(7.0)  # far from norm 1 before normalisation
    for _ in range(30):
        layer(torch.randn(4, 20))  # one power iteration per training forward pass
    assert largest_singular_value(layer) == pytest.approx(1.0, abs=1e-3)
    state = layer.state_dict()
    assert any(key.endswith("_u") for key in state) and any(key.endswith("_v") for key in state)
    restored = sn_linear(20, 30)
    restored.load_state_dict(state)
    assert torch.equal(_u(restored), _u(layer))


def test_spectral_norm_updates_u_in_training_only() -> None:
    layer = sn_conv2d(3, 8)
    with torch.no_grad():
        layer.parametrizations.weight.original.add_(torch.randn_like(layer.parametrizations.weight.original))
    before = _u(layer).clone()
    layer.eval()
    first = layer(torch.randn(2, 3, 8, 8))
    assert torch.equal(_u(layer), before), "an eval forward pass must not run the power iteration"
    layer.train()
    layer(torch.randn(2, 3, 8, 8))
    assert not torch.equal(_u(layer), before)
    assert first.shape == (2, 8, 8, 8)


def test_refresh_fixes_averaged_u_v_of_an_ema_copy() -> None:
    source = nn.Sequential(sn_linear(16, 16), sn_linear(16, 8))
    averaged = torch.optim.swa_utils.AveragedModel(
        source, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.5), use_buffers=True)
    averaged.update_parameters(source)  # the first update copies
    with torch.no_grad():
        for layer, _ in spectral_norm_layers(source):
            layer.parametrizations.weight.original.copy_(torch.randn_like(layer.parametrizations.weight.original))
    refresh_spectral_norms(source, 15)
    averaged.update_parameters(source)
    norms = [norm._u.norm().item() for _, norm in spectral_norm_layers(averaged.module)]
    assert min(norms) < 0.99, "averaging unit vectors shortens them: the situation the refresh exists for"
    assert refresh_spectral_norms(averaged.module, 20) == 2
    averaged.module.eval()
    for layer, norm in spectral_norm_layers(averaged.module):
        assert norm._u.norm().item() == pytest.approx(1.0, abs=1e-5)
        assert largest_singular_value(layer) == pytest.approx(1.0, abs=2e-2)


def test_pre_activation_block_keeps_its_input_for_the_shortcut() -> None:
    block = DBlock(4, 8, downsample=True, preactivation=True).eval()  # eval: u stays fixed between calls
    x = torch.randn(2, 4, 8, 8)
    original = x.clone()
    out = block(x)
    assert torch.equal(x, original), "the pre-activation ReLU must not rectify the input in place"
    residual = torch.nn.functional.avg_pool2d(block.conv2(torch.relu(block.conv1(torch.relu(original)))), 2)
    shortcut = torch.nn.functional.avg_pool2d(block.shortcut(original), 2)  # negative inputs reach the shortcut
    torch.testing.assert_close(out, residual + shortcut)


def test_generator_block_follows_its_condition() -> None:
    block = GBlock(8, 4, lambda c: ClassConditionalBatchNorm2d(c, 3))
    with torch.no_grad():
        block.norm1.bias.weight[2] += 1.0
    x = torch.randn(1, 8, 4, 4).repeat(2, 1, 1, 1)
    out = block(x, torch.tensor([0, 2]))
    assert out.shape == (2, 4, 8, 8)
    assert not torch.allclose(out[0], out[1])


def test_self_attention_starts_as_identity_and_is_non_local() -> None:
    attention = SelfAttention(16)
    assert attention.theta.weight.shape[0] == 2 and attention.phi.weight.shape[0] == 2  # C/8
    assert attention.g.weight.shape[0] == 8 and attention.o.weight.shape[:2] == (16, 8)  # C/2 and back to C
    x = torch.randn(2, 16, 8, 8)
    torch.testing.assert_close(attention(x), x)  # sigma = 0 at initialisation
    weights = attention.attention_map(x)
    assert weights.shape == (2, 64, 16)  # keys max-pooled 2x2
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 64))
    with torch.no_grad():
        attention.sigma.fill_(1.0)
    moved = x.clone()
    moved[:, :, 0, 0] += 5.0  # one corner changes...
    change = (attention(moved) - attention(x))[:, :, 7, 7].abs().max()
    assert change > 1e-4  # ...and the opposite corner sees it, though every convolution is 1x1


def test_class_conditional_batchnorm_uses_each_samples_class() -> None:
    norm = ClassConditionalBatchNorm2d(3, 4)
    with torch.no_grad():
        norm.gain.weight[1] = 2.0
    x = torch.randn(6, 3, 5, 5)
    labels = torch.tensor([0, 1, 0, 1, 2, 3])
    plain = nn.functional.batch_norm(x, None, None, training=True)
    out = norm(x, labels)
    torch.testing.assert_close(out[labels != 1], plain[labels != 1])
    torch.testing.assert_close(out[labels == 1], 2 * plain[labels == 1])


def test_shared_conditional_batchnorm_gain_is_one_plus_a_linear_map() -> None:
    norm = SharedConditionalBatchNorm2d(3, 5, spectral_norm=False)
    x, condition = torch.randn(4, 3, 2, 2), torch.randn(4, 5)
    plain = nn.functional.batch_norm(x, None, None, training=True)
    gain, bias = norm.gain.weight, norm.bias.weight
    expected = plain * (1 + condition @ gain.T)[:, :, None, None] + (condition @ bias.T)[:, :, None, None]
    torch.testing.assert_close(norm(x, condition), expected)
    with torch.no_grad():
        gain.zero_(), bias.zero_()
    torch.testing.assert_close(norm(x, condition), plain)


def test_projection_head_adds_the_class_embedding_product() -> None:
    head = ProjectionHead(6, num_classes=3)
    h, y = torch.randn(4, 6), torch.tensor([0, 1, 2, 1])
    expected = head.linear(h).squeeze(1) + (head.embed(y) * h).sum(1)
    torch.testing.assert_close(head(h, y), expected)
    assert ProjectionHead(6)(h).shape == (4,)
    with pytest.raises(ValueError, match="labels"):
        head(h)


def test_orthogonal_penalty_is_the_off_diagonal_gram_norm_and_skips_embeddings() -> None:
    net = nn.Sequential(nn.Linear(8, 4), nn.Embedding(5, 8))
    matrix = net[0].weight
    gram = matrix @ matrix.T
    expected = 1e-4 * (gram - torch.diag(torch.diag(gram))).pow(2).sum()
    torch.testing.assert_close(orthogonal_penalty(net), expected)  # the embedding is not penalised
    with torch.no_grad():
        nn.init.orthogonal_(matrix)
        matrix.mul_(3.0)  # orthogonal filters of any norm cost nothing
    assert orthogonal_penalty(net).item() == pytest.approx(0.0, abs=1e-9)
    layer = sn_linear(8, 4)
    orthogonal_penalty(layer, beta=1.0).backward()
    assert layer.parametrizations.weight.original.grad is not None  # the raw weight of an SN layer


def test_hierarchical_generator_gives_each_block_its_chunk_of_z() -> None:
    generator = SNResNetGenerator(latent_dim=16, channels=1, image_size=16, width=2, num_classes=10,
                                  conditioning="shared", shared_dim=8, hierarchical=True).eval()
    assert generator.chunk == 16 // 3 and generator.input_dim == 16 - 2 * (16 // 3)
    z, y = torch.randn(2, 16), torch.tensor([3, 3])
    out = generator(z, y)
    assert out.shape == (2, 1, 16, 16) and out.abs().max() <= 1
    last_chunk = z.clone()
    last_chunk[:, -1] += 1.0  # only the last block's chunk changes
    assert not torch.allclose(generator(last_chunk, y), out)
    assert not torch.allclose(generator(z, torch.tensor([4, 4])), out)


@pytest.mark.parametrize("size", [32, 64])
def test_networks_build_at_sagan_sizes_with_attention(size: int) -> None:
    generator = SNResNetGenerator(32, 3, size, width=8, num_classes=10, attention_resolution=32)
    discriminator = SNResNetDiscriminator(3, size, width=8, num_classes=10, attention_resolution=size // 2)
    images = generator(torch.randn(2, 32), torch.tensor([1, 2]))
    assert images.shape == (2, 3, size, size)
    assert discriminator(images, torch.tensor([1, 2])).shape == (2,)
    assert generator.attention is not None and discriminator.attention is not None
    with pytest.raises(ValueError, match="attention_resolution"):
        SNResNetGenerator(32, 3, size, width=2, num_classes=10, attention_resolution=3)


def test_gan_init_sets_raw_weights_and_keeps_spectral_norms_consistent() -> None:
    generator = gan_init_(SNResNetGenerator(8, 1, 16, width=8, num_classes=4, conditioning="class"), "normal")
    raw = generator.blocks[0].conv1.parametrizations.weight.original
    assert raw.std().item() == pytest.approx(0.02, rel=0.1)
    generator.eval()
    assert largest_singular_value(generator.blocks[0].conv1) == pytest.approx(1.0, abs=5e-2)  # 15 iterations
    assert torch.equal(generator.blocks[0].norm1.gain.weight, torch.ones_like(generator.blocks[0].norm1.gain.weight))
