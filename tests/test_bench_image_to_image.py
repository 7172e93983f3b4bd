"""Benchmarking image-to-image models: held-out inputs are translated, paired data adds L1/PSNR/SSIM.

A fake plugin with identity "translators" stands in for pix2pix/cyclegan, so this path is tested whether
or not those plugins are installed.
"""

from __future__ import annotations

import io
import sys
import textwrap

import pytest
from PIL import Image

pytest.importorskip("ganzoo.data.shapes")

from ganzoo import plugins  # noqa: E402
from ganzoo.metrics.bench import load_target, resolve_protocol, run_benchmark  # noqa: E402
from ganzoo.testing.fakes import fake_entry_point  # noqa: E402

SMALL = {"num_samples": 60, "reference_size": 60, "kid_subsets": 3, "kid_subset_size": 30, "isc_splits": 3}

FAKE_PLUGIN = textwrap.dedent('''
    """Identity translators: the output is the input (a baseline any real model must beat)."""
    from ganzoo import ModelConfig, ModelSpec, hookimpl

    GANZOO_API = ">=1.0,<2"


    @hookimpl
    def ganzoo_register_models(register):
        for name, task in (("identity-paired", "paired-image-to-image"), ("identity-unpaired", "unpaired-image-to-image")):
            register(ModelSpec(name=name, task=task, config_class=ModelConfig, paper="-", description="identity"))


    @hookimpl
    def ganzoo_build_generator(config):
        import torch
        return torch.nn.Identity()


    @hookimpl
    def ganzoo_build_discriminator(config):
        import torch
        return torch.nn.Conv2d(config.channels, 1, 3)


    @hookimpl
    def ganzoo_sample(model, state, num, inputs, direction):
        CALLS.append((model.name, num, direction))
        return state.networks["generator"](inputs)


    CALLS = []
''')


@pytest.fixture
def host(tmp_path, monkeypatch):
    (tmp_path / "fake_identity_plugin.py").write_text(FAKE_PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_host = plugins.PluginHost(entry_points=[fake_entry_point("identity", "fake_identity_plugin")], strict=True)
    monkeypatch.setattr(plugins, "_HOST", fake_host)
    yield sys.modules["fake_identity_plugin"]
    sys.modules.pop("fake_identity_plugin", None)  # the next test writes a fresh copy


def test_paired_model_is_scored_on_translated_held_out_inputs(host, tmp_path):
    protocol, extractor = resolve_protocol("paired-image-to-image", "shapes", **SMALL)
    assert protocol.name == "shapes-paired-custom"
    target = load_target("identity-paired", protocol)
    result = run_benchmark(target, protocol, extractor, ("fid", "kid"), cache_root=tmp_path)
    assert result.num_samples == 60 and result.metric_set == ["fid", "kid", "paired"]
    assert {"fid", "kid", "l1", "psnr", "ssim"} <= set(result.metrics)
    # outlines are not filled shapes: the identity translator is measurably wrong
    assert result.metrics["l1"] > 0.01 and result.metrics["fid"] > 0
    translated = sum(num for name, num, _ in host.CALLS if name == "identity-paired")
    assert translated >= 60
    grid = Image.open(io.BytesIO(result.sample_png()))
    assert grid.height == 3 * (protocol.image_size + 1) + 1  # input | output | target rows


def test_unpaired_model_translates_in_the_protocol_direction(host, tmp_path):
    protocol, extractor = resolve_protocol("unpaired-image-to-image", "shapes", **SMALL)
    target = load_target("identity-unpaired", protocol)
    result = run_benchmark(target, protocol, extractor, ("fid",), cache_root=tmp_path, sample_grid=False)
    assert result.metric_set == ["fid"] and set(result.metrics) == {"fid"}
    assert {direction for _, _, direction in host.CALLS} == {"AtoB"}


@pytest.mark.parametrize(("model", "task"), [("pix2pix", "paired-image-to-image"), ("cyclegan", "unpaired-image-to-image")])
def test_official_translation_plugins_bench_untrained(model, task, tmp_path):
    from ganzoo.plugins import get_host

    if model not in get_host().list_models():
        pytest.skip(f"the {model} plugin is not installed")
    tiny = {key: value for key, value in get_host().get_model(model).tiny_config.items() if key != "image_size"}
    protocol, extractor = resolve_protocol(task, "shapes", **SMALL)
    target = load_target(model, protocol, overrides=[f"model.{key}={value}" for key, value in tiny.items()])
    result = run_benchmark(target, protocol, extractor, ("fid",), cache_root=tmp_path, sample_grid=False)
    assert result.metrics["fid"] > 0 and result.num_samples == 60
    assert ("l1" in result.metrics) == (task == "paired-image-to-image")


@pytest.mark.parametrize("task", ["paired-image-to-image", "unpaired-image-to-image"])
def test_runs_trained_on_a_shapes_variant_share_the_preset_hash(task):
    """A run's dataset "shapes-paired" with --protocol shapes-paired is the preset itself, not a custom protocol."""
    name = "shapes-paired" if task.startswith("paired") else "shapes-unpaired"
    preset, _ = resolve_protocol(task, "shapes", name)
    for dataset, protocol in ((name, name), (name, None), ("shapes", None)):
        resolved, _ = resolve_protocol(task, dataset, protocol)
        assert (resolved.name, resolved.digest()) == (name, preset.digest())
