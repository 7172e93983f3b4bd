"""Fuzzing the command line with bad input: every case ends with a short error, never a traceback.

More than a hundred generated bad configs, argument sets and damaged run directories are fed to
``ganzoo.cli.main`` in the test process (fast: plugins, torch and the digits are loaded once).  Each case must
exit non-zero (2 for usage and config errors), print no traceback, and leave the existing good run, and the
damaged run it was given, byte for byte as they were.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import torch
from PIL import Image

from ganzoo.cli import main

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from trainer_helpers import tiny_cli_args  # noqa: E402

LONG_NAME = "x" * 300  # longer than any file system's name limit (255 bytes)


@dataclass
class World:
    """The good run every case must leave untouched, and a scratch folder for files a case needs."""

    run: Path
    scratch: Path

    def file(self, name: str, content: str | bytes = "") -> Path:
        path = self.scratch / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def damaged(self, name: str, damage: Callable[[Path], None]) -> Path:
        """A copy of the good run with ``damage`` applied (made once per case)."""
        copy = self.scratch / f"damaged-{name}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(self.run, copy, ignore=shutil.ignore_patterns(".lock"))
        damage(copy)
        return copy


def tree_digest(root: Path) -> str:
    """Names and contents of everything under ``root`` (the lock file's holder pid aside)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.name == ".lock":
            continue
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


# -- damaged run directories ------------------------------------------------------------------------------
def _checkpoint(run: Path) -> Path:
    return next((run / "checkpoints").glob("step-*"))


def _edit_meta(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _checkpoint(run) / "meta.json"
        meta = json.loads(path.read_text())
        change(meta)
        path.write_text(json.dumps(meta))
    return damage


def _write(relative: str, content: str | bytes) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = run / relative if not relative.startswith("CKPT/") else _checkpoint(run) / relative[5:]
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return damage


def _make_dir(relative: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = run / relative if not relative.startswith("CKPT/") else _checkpoint(run) / relative[5:]
        path.unlink()
        path.mkdir()
    return damage


def _remove(relative: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = run / relative if not relative.startswith("CKPT/") else _checkpoint(run) / relative[5:]
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return damage


def _edit_weights(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        from safetensors.torch import load_file, save_file

        path = _checkpoint(run) / "weights.safetensors"
        tensors = load_file(str(path))
        change(tensors)
        save_file(tensors, str(path))
    return damage


def _drop_first_tensor(tensors: dict) -> None:
    del tensors[sorted(tensors)[0]]


def _reshape_first_weight(tensors: dict) -> None:
    key = next(k for k in sorted(tensors) if k.endswith("weight") and tensors[k].dim() > 1)
    tensors[key] = torch.zeros(tensors[key].shape[0] + 1, *tensors[key].shape[1:])


def _truncate(relative: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = _checkpoint(run) / relative
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return damage


def _pickled_code(run: Path) -> None:
    """A state.pt that runs code when unpickled (must be refused, not executed)."""
    import pickle

    class Exploit:
        def __reduce__(self):  # noqa: D105
            return (os.system, ("touch PWNED",))

    (_checkpoint(run) / "state.pt").write_bytes(pickle.dumps({"optimizers": Exploit()}))


def _state_without_optimizers(run: Path) -> None:
    torch.save({"scaler": None, "extras": {}}, _checkpoint(run) / "state.pt")


def _config_value(key: str, value: object) -> Callable[[Path], None]:
    """Set ``section.key`` in the run's config.toml and in its checkpoint's."""
    def damage(run: Path) -> None:
        import tomllib

        import tomli_w

        for path in [run / "config.toml", _checkpoint(run) / "config.toml"]:
            data = tomllib.loads(path.read_text())
            if "." in key:
                section, name = key.split(".")
                data[section][name] = value
            else:
                data[key] = value
            path.write_text(tomli_w.dumps(data))
    return damage


DAMAGES: dict[str, Callable[[Path], None]] = {
    "meta-without-step": _edit_meta(lambda m: m.pop("step")),
    "meta-step-text": _edit_meta(lambda m: m.update(step="abc")),
    "meta-step-negative": _edit_meta(lambda m: m.update(step=-3)),
    "meta-step-float": _edit_meta(lambda m: m.update(step=1.5)),
    "meta-position-text": _edit_meta(lambda m: m.update(data_position="x")),
    "meta-position-epoch-text": _edit_meta(lambda m: m.update(data_position={"epoch": "a", "batch_in_epoch": 0})),
    "meta-seconds-text": _edit_meta(lambda m: m.update(train_seconds="soon")),
    "meta-plugin-other": _edit_meta(lambda m: m.update(plugin="ganzoo-plugin-evil")),
    "meta-not-json": _write("CKPT/meta.json", "{not json"),
    "meta-a-list": _write("CKPT/meta.json", "[1, 2]"),
    "meta-binary": _write("CKPT/meta.json", b"\xff\xfe\x00garbage"),
    "meta-a-directory": _make_dir("CKPT/meta.json"),
    "weights-truncated": _truncate("weights.safetensors"),
    "weights-empty": _write("CKPT/weights.safetensors", b""),
    "weights-garbage": _write("CKPT/weights.safetensors", b"\x00" * 64),
    "weights-a-directory": _make_dir("CKPT/weights.safetensors"),
    "weights-missing-tensor": _edit_weights(_drop_first_tensor),
    "weights-shape-mismatch": _edit_weights(_reshape_first_weight),
    "state-truncated": _truncate("state.pt"),
    "state-garbage": _write("CKPT/state.pt", b"PK\x03\x04garbage"),
    "state-pickled-code": _pickled_code,
    "state-without-optimizers": _state_without_optimizers,
    "latest-a-directory": _make_dir("checkpoints/latest"),
    "latest-outside-run": _write("checkpoints/latest", "../../../etc\n"),
    "latest-binary": _write("checkpoints/latest", b"\xff\xfe\x00"),
    "checkpoints-a-file": lambda run: (shutil.rmtree(run / "checkpoints"), (run / "checkpoints").write_text("x")),
    "config-unknown-model": _config_value("model_name", "no-such-gan"),
    "config-steps-text": _config_value("train.steps", "abc"),
    "config-steps-bool": _config_value("train.steps", True),
    "config-lr-inf": _config_value("train.lr_g", float("inf")),
    "config-channels-2": _config_value("model.channels", 2),
    "config-unknown-key": _config_value("train.stepz", 3),
}
RUN_CONFIG_DAMAGES: dict[str, Callable[[Path], None]] = {  # sample reads the checkpoint's config, resume the run's
    "config-missing": _remove("config.toml"),
    "config-garbage": _write("config.toml", "[[[ not toml"),
    "config-binary": _write("config.toml", b"\x00\xff\xfe"),
    "config-a-directory": _make_dir("config.toml"),
}


# -- the cases -----------------------------------------------------------------------------------------
Case = Callable[[World], list[str]]


def _train(*extra: str) -> Case:
    return lambda w: [*tiny_cli_args(w.scratch / "new-run", steps=1), *extra]


BAD_SETTINGS = [
    "train.steps=0", "train.steps=-5", "train.steps=true", "train.steps=1.5", 'train.steps="abc"', "train.steps=[1]",
    "train.steps={a=1}", "train.batch_size=0", "train.seed=-1", "train.seed=99999999999999999999",
    "train.lr_g=inf", "train.lr_d=nan", "train.lr_g=-1", "train.lr_g=-inf", "train.beta1=1", "train.beta2=nan",
    "train.momentum=inf", "train.weight_decay=inf", "train.gp_weight=-1", "train.ema_decay=1", "train.n_critic=0",
    "train.optimizer=lion", "train.lr_schedule=sometimes", "train.device=tpu", "train.precision=fp8",
    "train.loss=no-such-loss", "train.loss_options=3", "train.diffaugment=bogus", "train.sample_count=100000",
    "train.keep_checkpoints=0", "train.log_every=0", "train.stepz=3", "train.optim=3",
    "model.channels=2", "model.channels=0", "model.channels=true", "model.image_size=4096", "model.image_size=3",
    "model.image_size=2049", "model.image_size=48.5", "model.ngf=0", "model.latent_dim=0", "model.num_classes=-1",
    "data.num_workers=-1", "data.format=zip", "data.dataset=no-such-dataset", "data.augment=bogus",
    "data.preload_max_images=-1", "nosection.x=1", "train=1", "train.steps", "train.=1", "=1",
    'data.dataset=""', 'train.optim={generator={optimizer="lion"}}',
    "train.optim={nonet={lr=1}}", "train.optim={generator={lr=inf}}", "sample.x=1", "model.ngf=-1",
    "train.betas=[0.5]", "train.ema_start=-1", "data.split=nosuchsplit",
]

CASES: dict[str, Case] = {f"set {text}": _train("--set", text) for text in BAD_SETTINGS}
CASES.update({
    "train --steps 0": _train("--steps", "0"),
    "train --steps abc": _train("--steps", "abc"),
    "train --seed 20 digits": _train("--seed", "99999999999999999999"),
    "train --seed -1": _train("--seed", "-1"),
    "train --batch-size 0": _train("--batch-size", "0"),
    "train --device foo": _train("--device", "foo"),
    "train --precision fp8": _train("--precision", "fp8"),
    "train --dataset missing folder": _train("--dataset", "/no/such/folder"),
    "train --dataset a file": lambda w: _train("--dataset", str(w.file("notes.txt", "hi")))(w),
    "train --dataset empty folder": lambda w: (w.file("empty/.keep"), _train("--dataset", str(w.scratch / "empty"))(w))[1],
    "train --dataset undecodable images": lambda w: (w.file("badimgs/a.png", b"not a png"),
                                                     _train("--dataset", str(w.scratch / "badimgs"))(w))[1],
    "train bad image read by a worker": lambda w: (
        [Image.new("L", (8, 8)).save(w.scratch / f"ok{i}.png") for i in range(15)], w.file("zz.png", b"not a png"),
        _train("--dataset", str(w.scratch), "--set", "data.num_workers=1", "--set", "data.preload_max_images=0",
               "--set", "train.batch_size=16")(w))[-1],
    "train --loss nope": _train("--loss", "nope"),
    "train unknown model": lambda w: ["train", "no-such-gan", "--out", str(w.scratch / "x")],
    "train no model": lambda w: ["train"],
    "train --config missing": _train("--config", "/no/such.toml"),
    "train --config a directory": lambda w: _train("--config", str(w.scratch))(w),
    "train --config binary": lambda w: _train("--config", str(w.file("bin.toml", b"\x00\xff\xfe")))(w),
    "train --config not toml": lambda w: _train("--config", str(w.file("bad.toml", "[[[")))(w),
    "train --config unknown section": lambda w: _train("--config", str(w.file("sec.toml", "[evil]\nx = 1\n")))(w),
    "train --config other model": lambda w: _train("--config", str(w.file("other.toml", 'model_name = "wgan-gp"\n')))(w),
    "train --config section not a table": lambda w: _train("--config", str(w.file("tab.toml", "model = 3\n")))(w),
    "train --config lr text": lambda w: _train("--config", str(w.file("lr.toml", '[train]\nlr_g = "abc"\n')))(w),
    "train --out a file": lambda w: [*tiny_cli_args(w.file("a-file", "x"), steps=1)],
    "train --out under a file": lambda w: [*tiny_cli_args(w.file("a-file2", "x") / "run", steps=1)],
    "train --out over-long name": lambda w: [*tiny_cli_args(w.scratch / LONG_NAME, steps=1)],
    "train --out existing run": lambda w: [*tiny_cli_args(w.run, steps=1)],
    "train --resume with --set": lambda w: ["train", "--resume", str(w.run), "--set", "train.steps=3"],
    "train --resume to fewer steps": lambda w: ["train", "--resume", str(w.run), "--steps", "1", "--no-progress"],
    "train --resume missing": lambda w: ["train", "--resume", str(w.scratch / "nothing-here")],
    "train --resume a file": lambda w: ["train", "--resume", str(w.file("resume-file", "x"))],
    "sample --num 0": lambda w: ["sample", str(w.run), "--num", "0"],
    "sample --num -1": lambda w: ["sample", str(w.run), "--num", "-1"],
    "sample --num 1e8": lambda w: ["sample", str(w.run), "--num", "100000000", "--out", str(w.scratch / "s.png")],
    "sample --device foo": lambda w: ["sample", str(w.run), "--device", "foo", "--out", str(w.scratch / "s.png")],
    "sample --device cuda:99": lambda w: ["sample", str(w.run), "--device", "cuda:99", "--out", str(w.scratch / "s.png")],
    "sample --checkpoint missing": lambda w: ["sample", str(w.run), "--checkpoint", "step-999999"],
    "sample --checkpoint outside": lambda w: ["sample", str(w.run), "--checkpoint", "../../.."],
    "sample --class on unconditional": lambda w: ["sample", str(w.run), "--class", "3"],
    "sample --truncation 0": lambda w: ["sample", str(w.run), "--truncation", "0"],
    "sample --truncation nan": lambda w: ["sample", str(w.run), "--truncation", "nan"],
    "sample --nrow 0": lambda w: ["sample", str(w.run), "--nrow", "0", "--out", str(w.scratch / "s.png")],
    "sample --out under a file": lambda w: ["sample", str(w.run), "--out", str(w.file("f", "x") / "s.png")],
    "sample --out over-long name": lambda w: ["sample", str(w.run), "--out", str(w.scratch / f"{LONG_NAME}.png")],
    "sample missing run": lambda w: ["sample", str(w.scratch / "nothing-here")],
    "sample a file": lambda w: ["sample", str(w.file("sample-file", "x"))],
    "sample --out folder is a file": lambda w: ["sample", str(w.run), "--out", str(w.file("not-a-folder", "x"))],
    "sample --seed 20 digits": lambda w: ["sample", str(w.run), "--seed", "99999999999999999999"],
    "bench --weights missing": lambda w: ["bench", str(w.run), "--weights", "/no/such/weights.pth",
                                          "--feature-extractor", "inception-v3-compat"],
    "bench --cache-dir a file": lambda w: ["bench", str(w.run), "--cache-dir", str(w.file("cache-file", "x")),
                                           "--num-samples", "10", "--metrics", "fid"],
    "bench --seed 20 digits": lambda w: ["bench", str(w.run), "--seed", "99999999999999999999"],
    "train --data-root a file": _train("--dataset", "mnist", "--data-root", "/etc/hostname"),
    "bench --metrics foo": lambda w: ["bench", str(w.run), "--metrics", "foo"],
    "bench --num-samples 0": lambda w: ["bench", str(w.run), "--num-samples", "0"],
    "bench --num-samples -5": lambda w: ["bench", str(w.run), "--num-samples", "-5"],
    "bench --device foo": lambda w: ["bench", str(w.run), "--device", "foo"],
    "bench --protocol nope": lambda w: ["bench", str(w.run), "--protocol", "nope"],
    "bench --protocol %": lambda w: ["bench", str(w.run), "--protocol", "%"],
    "bench --set-protocol unknown": lambda w: ["bench", str(w.run), "--set-protocol", "colour=1"],
    "bench --set-protocol num_samples text": lambda w: ["bench", str(w.run), "--set-protocol", "num_samples=abc"],
    "bench --checkpoint missing": lambda w: ["bench", str(w.run), "--checkpoint", "step-999999"],
    "bench --dataset nope": lambda w: ["bench", str(w.run), "--dataset", "nope"],
    "bench --feature-extractor nope": lambda w: ["bench", str(w.run), "--feature-extractor", "nope"],
    "bench unknown model": lambda w: ["bench", "no-such-gan"],
    "bench missing run": lambda w: ["bench", str(w.scratch / "nothing-here") + "/"],
    "leaderboard --db a directory": lambda w: ["leaderboard", "--db", str(w.scratch)],
    "leaderboard --db not sqlite": lambda w: ["leaderboard", "--db", str(w.file("board.sqlite", "hello, not a database"))],
    "leaderboard --db binary": lambda w: ["leaderboard", "--db", str(w.file("board2.sqlite", os.urandom(4096)))],
    "leaderboard --format pdf": lambda w: ["leaderboard", "--format", "pdf"],
    "leaderboard --out a directory": lambda w: ["leaderboard", "--db", str(w.scratch / "empty.sqlite"), "--out", str(w.scratch)],
    "bench --record --db a directory": lambda w: ["bench", str(w.run), "--record", "--db", str(w.scratch), "--metrics", "foo"],
    "new-plugin newline name": lambda w: ["new-plugin", "gan\n", "--dir", str(w.scratch / "p1")],
    "new-plugin upper-case name": lambda w: ["new-plugin", "GAN", "--dir", str(w.scratch / "p2")],
    "new-plugin injected distribution": lambda w: ["new-plugin", "x-gan", '--distribution=x"\n[evil]', "--dir", str(w.scratch / "p3")],
    "new-plugin --dir a file": lambda w: ["new-plugin", "x-gan", "--dir", str(w.file("p4", "x"))],
    "info unknown model": lambda w: ["info", "no-such-gan"],
    "list --kind bogus": lambda w: ["list", "--kind", "bogus"],
    "registry missing file": lambda w: ["registry", "--registry", "/no/such/registry.toml"],
    "registry garbage file": lambda w: ["registry", "--registry", str(w.file("reg.toml", "[[[ nope"))],
    "install unknown": lambda w: ["install", "no-such-gan", "--dry-run"],
    "translate noise model": lambda w: ["translate", str(w.run), "--input", str(w.scratch), "--out", str(w.scratch / "t")],
    "unknown command": lambda w: ["frobnicate"],
})
CHECKPOINT_CONFIG_DAMAGES: dict[str, Callable[[Path], None]] = {
    "checkpoint-config-garbage": _write("CKPT/config.toml", "[[[ not toml"),
    "checkpoint-config-missing": _remove("CKPT/config.toml"),
}
DAMAGE_CASES = [*itertools.product(DAMAGES, ("resume", "sample")), *itertools.product(RUN_CONFIG_DAMAGES, ("resume",)),
                *itertools.product(CHECKPOINT_CONFIG_DAMAGES, ("sample",))]
for damage_name, command in DAMAGE_CASES:
    def _case(w: World, damage_name: str = damage_name, command: str = command) -> list[str]:
        run = w.damaged(damage_name, {**DAMAGES, **RUN_CONFIG_DAMAGES, **CHECKPOINT_CONFIG_DAMAGES}[damage_name])
        if command == "resume":
            return ["train", "--resume", str(run), "--steps", "3", "--no-progress"]
        return ["sample", str(run), "--num", "4", "--out", str(w.scratch / "damaged.png")]
    CASES[f"{command} {damage_name}"] = _case


# -- the test --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("good") / "run"
    assert main(tiny_cli_args(run, steps=2)) == 0
    return run


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_clear_error(name: str, good_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # anything a case writes by default lands here
    monkeypatch.setenv("GANZOO_LEADERBOARD_DB", str(tmp_path / "board.sqlite"))
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    world = World(good_run, tmp_path / "scratch")
    world.scratch.mkdir()
    argv = CASES[name](world)
    damaged = [Path(a) for a in argv if "damaged-" in a and Path(a).is_dir()]
    before = tree_digest(good_run), [tree_digest(d) for d in damaged]
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        status = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err and not re.search(r'File ".*", line \d+', err), err
    assert status == 2, f"exit status {status}: {err}"
    message = [line for line in err.splitlines() if line.strip() and not line.startswith(("usage:", " "))]
    assert message and re.match(r"ganzoo( [\w-]+)?: error: ", message[0]), err
    assert (tree_digest(good_run), [tree_digest(d) for d in damaged]) == before, "a bad input changed a run"
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
