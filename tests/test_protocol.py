"""Evaluation protocols: validation, hashing and preset selection (no torch needed)."""

from __future__ import annotations

import pytest

from ganzoo.metrics.protocol import PRESETS, Protocol, ProtocolError, default_preset, get_preset


def test_every_hashed_field_changes_the_digest_but_the_name_does_not():
    base = get_preset("digits").with_changes(weights_sha256="ab" * 32)
    changes = {
        "dataset": "shapes", "split": "train", "task": "paired-image-to-image", "image_size": 64, "channels": 3,
        "num_samples": 2000, "reference_size": 100, "feature_extractor": "timm:resnet18", "weights_sha256": "cd" * 32, "reference_sha256": "ef" * 32,
        "isc_splits": 5, "kid_subsets": 10, "kid_subset_size": 100, "kid_degree": 2, "kid_coef0": 0.5,
        "prc_neighborhood": 5, "seed": 7, "direction": "BtoA", "batch_size": 64, "truncation": 0.5,
    }
    assert set(changes) | {"name", "resize"} == set(Protocol.model_fields)
    digests = {base.digest()}
    for field, value in changes.items():
        changed = base.with_changes(**{field: value})
        assert changed.digest() != base.digest(), field
        digests.add(changed.digest())
    assert len(digests) == len(changes) + 1
    assert base.with_changes(name="renamed").digest() == base.digest()


def test_changed_presets_are_marked_custom_and_digest_is_stable():
    preset = get_preset("digits")
    assert preset.with_changes(num_samples=500).name == "digits-custom"
    assert preset.with_changes(weights_sha256="00").name == "digits"
    assert Protocol(**preset.model_dump()).digest() == preset.digest()


def test_fewer_samples_than_a_kid_subset_shrink_the_subsets():
    """`bench --num-samples 100` works on a preset whose KID subsets hold 250 (issue 12 item 14)."""
    small = get_preset("digits").with_changes(num_samples=100)
    assert (small.num_samples, small.kid_subset_size, small.name) == (100, 100, "digits-custom")
    assert get_preset("digits").with_changes(num_samples=5000).kid_subset_size == 250


def test_invalid_protocols_are_rejected_with_the_field_named():
    with pytest.raises(ProtocolError, match=r"kid_subset_size \(500\) must not exceed num_samples \(100\)"):
        get_preset("digits").with_changes(num_samples=100, kid_subset_size=500)
    with pytest.raises(ProtocolError, match="^invalid protocol 'digits': num_samples = -1: Input should be greater") as err:
        get_preset("digits").with_changes(num_samples=-1)
    assert "\n" not in str(err.value) and "pydantic" not in str(err.value)
    with pytest.raises(ProtocolError, match="unknown protocol 'digitz'.*digits"):
        get_preset("digitz")


def test_default_presets_follow_dataset_and_task():
    assert default_preset("digits", "unconditional").name == "digits"
    assert default_preset("digits", "class-conditional").name == "digits"  # one leaderboard for both
    assert default_preset("shapes", "paired-image-to-image").name == "shapes-paired"
    assert default_preset("shapes", "unpaired-image-to-image").name == "shapes-unpaired"
    # runs trained with --dataset shapes-paired / shapes-unpaired name their preset directly
    assert default_preset("shapes-paired", "paired-image-to-image").name == "shapes-paired"
    assert default_preset("shapes-unpaired", "unpaired-image-to-image").name == "shapes-unpaired"
    assert default_preset("cifar10", "unconditional").name == "cifar10-train-50k"
    with pytest.raises(ProtocolError, match="no preset protocol"):
        default_preset("celeba", "unconditional")


def test_standard_and_offline_presets_exist():
    standard = PRESETS["cifar10-train-50k"]
    assert (standard.num_samples, standard.split, standard.feature_extractor) == (50000, "train", "inception-v3-compat")
    for name in ("digits", "shapes"):
        assert PRESETS[name].num_samples <= 2000 and PRESETS[name].split == "test"
