"""docs/api.md is generated from the docstrings and committed: it must match them."""

from __future__ import annotations

from pathlib import Path

from ganzoo.apidoc import DEFAULT_OUTPUT, main, render


def test_the_committed_api_reference_is_up_to_date() -> None:
    assert DEFAULT_OUTPUT == Path(__file__).resolve().parents[1] / "docs" / "api.md"
    assert main(["--check"]) == 0, "docs/api.md is out of date: run `python -m ganzoo.apidoc` and commit it"


def test_the_reference_answers_what_a_train_step_needs(tmp_path: Path) -> None:
    text = render()
    for needed in ("#### `GANState.optimize`", "Clears those optimizers' gradients first", "DistributedDataParallel",
                   "#### `GANState.random_labels`", "``gp_weight``", "#### `GANState.autocast`",
                   "## `ganzoo.steps`", "### `discriminator_step`", "## `ganzoo.latents`", "### class `Categorical`",
                   "### class `UNetGenerator`", "ganzoo.nn.unet.UNetGenerator(in_channels: int, out_channels: int",
                   "Initialisation: :func:`ganzoo.nn.init.normal_init_`"):
        assert needed in text, needed
    stale = tmp_path / "api.md"
    stale.write_text("old\n")
    assert main(["--check", "--out", str(stale)]) == 1
    assert main(["--out", str(stale)]) == 0 and stale.read_text() == text
