"""Config errors name the culprit: file and line, field, value, and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganzoo import ConfigError, get_model, resolve_config
from ganzoo.config import load_toml


def _error(**kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        resolve_config(get_model("dcgan"), **kwargs)
    return str(caught.value)


def test_malformed_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text("[train]\nsteps = 3\nlr_g = \n")
    with pytest.raises(ConfigError, match=r"run\.toml is not valid TOML.*line 3"):
        load_toml(path)


def test_unreadable_config_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_toml(tmp_path)  # a directory
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[train]")
    with pytest.raises(ConfigError, match=r"binary\.toml is not UTF-8"):
        load_toml(binary)


def test_a_section_that_is_not_a_table_is_a_config_error() -> None:
    message = _error(file_data={"train": 5}, file_name="run.toml")
    assert "run.toml" in message and "[train]" in message


@pytest.mark.parametrize("source", ["file", "set"])
def test_unknown_key_suggests_and_lists_the_allowed_names(source: str) -> None:
    if source == "file":
        message = _error(file_data={"train": {"stpes": 3}}, file_name="run.toml")
    else:
        message = _error(overrides=["train.stpes=3"])
    assert "train.stpes: unknown setting" in message and "did you mean 'steps'" in message
    assert "allowed: steps, batch_size" in message
    assert ("run.toml" if source == "file" else "--set train.stpes=3") in message


@pytest.mark.parametrize("source", ["file", "set"])
def test_bad_value_names_field_value_origin_and_allowed(source: str) -> None:
    if source == "file":
        message = _error(file_data={"train": {"device": "gpu", "beta1": 1.5}}, file_name="run.toml")
    else:
        message = _error(overrides=["train.device=gpu", "train.beta1=1.5"])
    assert "train.device = 'gpu'" in message and "'cpu', 'cuda' or 'mps'" in message
    assert "train.beta1 = 1.5" in message and "less than 1" in message
    assert message.count("'cuda'") == 1, "the allowed values are listed once"
