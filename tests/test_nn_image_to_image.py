"""Shared image-to-image building blocks: PatchGAN, U-Net, ResNet generator and the image pool."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo.nn.image_pool import ImagePool
from ganzoo.nn.patchgan import PatchDiscriminator, max_patch_layers, patch_output_size, receptive_field
from ganzoo.nn.resnet_generator import ResidualBlock, ResnetGenerator, resnet_blocks_for
from ganzoo.nn.translation import translate_images
from ganzoo.nn.unet import UNetGenerator, unet_downsamplings


@pytest.mark.parametrize(("n_layers", "field"), [(1, 16), (2, 34), (3, 70), (4, 142), (5, 286)])
def test_patchgan_receptive_field(n_layers: int, field: int) -> None:
    assert receptive_field(n_layers) == field
    assert PatchDiscriminator(3, 4, n_layers).receptive_field == field


def test_receptive_field_matches_the_network_empirically() -> None:
    # the gradient of one output logit w.r.t. the input is non-zero exactly on its receptive field
    net = PatchDiscriminator(1, 2, n_layers=2, norm="none")
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.constant_(module.weight, 0.1)
    net.net = nn.Sequential(*[m if not isinstance(m, nn.LeakyReLU) else nn.Identity() for m in net.net])
    images = torch.zeros(1, 1, 96, 96, requires_grad=True)
    scores = net(images)
    centre = scores.shape[-1] // 2
    scores[0, 0, centre, centre].backward()
    rows = images.grad[0, 0].abs().sum(1).nonzero()
    assert int(rows.max() - rows.min() + 1) == receptive_field(2) == 34


def test_patchgan_output_map_and_condition() -> None:
    net = PatchDiscriminator(6, 8, 3)
    source, output = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)
    scores = net(output, source)
    assert scores.shape == (2, 1, patch_output_size(64, 3), patch_output_size(64, 3)) == (2, 1, 6, 6)
    assert patch_output_size(256, 3) == 30  # the paper's 30x30 map of 70x70 patches
    assert max_patch_layers(32) == 3 and max_patch_layers(16) == 2
    assert patch_output_size(32, max_patch_layers(32)) >= 1 and patch_output_size(32, 4) < 1


def test_patchgan_norm_placement() -> None:
    layers = list(PatchDiscriminator(3, 8, 3, norm="instance").net)
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Conv2d)]
    assert [type(layers[i + 1]).__name__ for i in convs[:-1]] == ["LeakyReLU", "InstanceNorm2d", "InstanceNorm2d", "InstanceNorm2d"]
    assert [layers[i].stride[0] for i in convs] == [2, 2, 2, 1, 1]
    assert all(not m.track_running_stats and not m.affine for m in layers if isinstance(m, nn.InstanceNorm2d))


def test_unet_shapes_norms_and_dropout() -> None:
    assert unet_downsamplings(256) == 8 and unet_downsamplings(32) == 5
    with pytest.raises(ValueError, match="power-of-two"):
        unet_downsamplings(48)
    net = UNetGenerator(1, 3, num_downs=5, ngf=4, dropout_blocks=2)
    out = net(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 3, 32, 32) and out.abs().max() <= 1
    first, innermost = net.encoders[0], net.encoders[-1]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in (*first, *innermost))  # first C64 and bottleneck: no norm
    assert all(isinstance(m, nn.BatchNorm2d) for e in net.encoders[1:-1] for m in e if isinstance(m, nn.modules.batchnorm._BatchNorm))
    dropout_levels = [i for i, d in enumerate(net.decoders) if any(isinstance(m, nn.Dropout) for m in d)]
    assert dropout_levels == [2, 3]  # the two blocks next to the bottleneck
    assert isinstance(net.decoders[0][-1], nn.Tanh)


def test_unet_dropout_survives_eval_when_asked() -> None:
    net = UNetGenerator(3, 3, num_downs=4, ngf=4, dropout_blocks=2).eval()
    x = torch.randn(1, 3, 16, 16)
    assert torch.equal(net(x), net(x))
    net.set_dropout(True)
    assert not torch.equal(net(x), net(x))


def test_unet_skip_connections_carry_fine_detail() -> None:
    # the output depends on every input pixel through the outermost skip, not only via the 1x1 bottleneck
    net = UNetGenerator(1, 1, num_downs=3, ngf=4, dropout=0).eval()
    x = torch.randn(1, 1, 8, 8, requires_grad=True)
    net(x)[0, 0, 0, 0].backward()
    assert x.grad[0, 0, 0, 0] != 0


def test_resnet_generator() -> None:
    assert resnet_blocks_for(256) == 9 and resnet_blocks_for(128) == 6 and resnet_blocks_for(32) == 6
    net = ResnetGenerator(3, 1, ngf=4, n_blocks=2)
    out = net(torch.randn(2, 3, 20, 20))
    assert out.shape == (2, 1, 20, 20) and out.abs().max() <= 1
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in net.modules()) == 2
    residual_convs = [m for b in net.modules() if isinstance(b, ResidualBlock) for m in b.modules() if isinstance(m, nn.Conv2d)]
    assert len(residual_convs) == 4 and all(conv.padding_mode == "reflect" for conv in residual_convs)
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.randn(1, 3, 18, 18))


def test_image_pool_fills_then_mixes_history() -> None:
    pool = ImagePool(4)
    generator = torch.Generator().manual_seed(0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first, generator), first) and len(pool) == 4
    returned_old = 0
    for step in range(50):
        new = torch.full((2, 1, 1, 1), 100.0 + step)
        out = pool.query(new, generator)
        returned_old += int((out != new).sum())
        assert len(pool) == 4
    assert 25 < returned_old < 75  # about half of the 100 queried images came from the history


def test_image_pool_state_round_trips_as_a_tensor() -> None:
    a, b = ImagePool(3), ImagePool(3)
    images = torch.randn(5, 2, 4, 4)
    a.query(images[:3])
    b = ImagePool(3, a.images.clone())
    ga, gb = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(a.query(images[3:], ga), b.query(images[3:], gb))
    assert torch.equal(a.images, b.images)
    assert torch.equal(ImagePool(0).query(images), images)
    with pytest.raises(ValueError, match="shape"):
        a.query(torch.randn(1, 3, 4, 4))


def test_translate_images_restores_modes_and_keeps_the_training_rng() -> None:
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Dropout(0.5), nn.Tanh()).train()
    images = torch.randn(2, 1, 8, 8)
    rng = torch.get_rng_state()
    first = translate_images(net, images, torch.Generator().manual_seed(3), keep_dropout=True)
    again = translate_images(net, images, torch.Generator().manual_seed(3), keep_dropout=True)
    assert torch.equal(first, again) and torch.equal(torch.get_rng_state(), rng)
    assert all(module.training for module in net.modules())
    plain = translate_images(net, images)
    assert torch.equal(plain, translate_images(net, images, torch.Generator().manual_seed(9)))  # no dropout: no noise

