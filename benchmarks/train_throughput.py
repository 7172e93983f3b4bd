"""Images/s of ganzoo's trainer against the classic hand-written DCGAN loop, side by side in one process.

The baseline is the training loop of the PyTorch DCGAN example (pytorch/examples, dcgan/main.py): per
iteration one generator forward pass; the D step scores the real batch and ``fake.detach()`` (two backward
passes, as the example does); the G step reuses the same ``fake`` against the updated discriminator.  It
runs ganzoo's own DCGAN networks and optimizers (built by ``build_state``, identical weights), the same batch
size and the same preloaded data (the embedded digits at 64 px, 3 channels), with ``BCEWithLogits`` written as
softplus (the logits are what ganzoo's discriminator returns).  Unlike the example, it does not read the losses
back with ``.item()`` every iteration (free on a CPU, a sync on a GPU): the baseline is the best case.

Also measured, as a second line: the "plain" loop that draws the fakes twice (once without grad for D, again
for G), which is what Algorithm 1 of the GAN papers does and what ``train.reuse_fakes = false`` selects.

Settings: fp32, and bf16 autocast + channels-last; with CUDA present, the same two on the GPU (data pinned,
fused Adam, TF32 allowed).  Every (setting, loop) pair runs once per round, rounds alternate, the best of each
pair is kept: a busy machine penalises every pair alike.  Prints the ratio trainer / classic per setting
(target >= 0.97).  Each run times 20 steps after 3 of warm-up (~10-20 s on 2 cores): with 10 steps the
round-to-round spread of one loop was ~5 %, as large as the effect the ratio is about.  Then a paired line per
setting (``paired_steps``): ganzoo's train step and the classic step alternated one step at a time in one
process, median time per step, the steadiest comparison of the two.

    .venv/bin/python benchmarks/train_throughput.py [--image-size 64] [--batch-size 64] [--steps 20] [--rounds 3]
        [--paired-steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from ganzoo import get_model, resolve_config
from ganzoo.config import RunConfig
from ganzoo.data.digits import DigitsDataset
from ganzoo.data.loader import EpochBatchSource, EpochLoader
from ganzoo.plugins import get_host
from ganzoo.state import GANState, build_state
from ganzoo.trainer import Trainer


def run_config(args: argparse.Namespace, device: str, precision: str, channels_last: bool,
               reuse_fakes: bool = True) -> RunConfig:
    model = {"image_size": args.image_size, "channels": 3, "ngf": args.width, "ndf": args.width, "latent_dim": 100}
    train = {"steps": args.warmup + args.steps, "batch_size": args.batch_size, "device": device,
             "precision": precision, "channels_last": channels_last, "progress": False, "log_every": args.warmup,
             "sample_every": 10**9, "checkpoint_every": 10**9, "seed": 0, "reuse_fakes": reuse_fakes}
    return resolve_config(get_model("dcgan"), values={"model": model, "train": train})


TARGET = 0.97  # ganzoo's images/s over the classic loop's


def setting_name(device: str, precision: str, channels_last: bool) -> str:
    return f"{device} {precision}" + ("+channels-last" if channels_last else "")


def verdict(ratio: float) -> str:
    return "ok" if ratio >= TARGET else f"BELOW target {TARGET}"


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class HandWrittenStep:
    """One iteration of the classic loop (``classic=True``) or of the plain two-forward loop on ``state``'s networks."""

    def __init__(self, state: GANState, precision: str, device: str, classic: bool) -> None:
        self.generator, self.discriminator = state.networks["generator"], state.networks["discriminator"]
        self.opt_g, self.opt_d = state.optimizers["generator"], state.optimizers["discriminator"]
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.device, self.classic = device, classic

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device, dtype=self.dtype or torch.bfloat16, enabled=self.dtype is not None)

    def __call__(self, real: torch.Tensor) -> None:
        batch, generator, discriminator = real.size(0), self.generator, self.discriminator
        noise = torch.randn(batch, 100, device=self.device)
        if self.classic:  # pytorch/examples dcgan: D on real, D on fake.detach(), G on the same fake
            self.opt_d.zero_grad(set_to_none=True)
            with self.autocast():
                loss_real = F.softplus(-discriminator(real).float()).mean()
            loss_real.backward()
            with self.autocast():
                fake = generator(noise)
                loss_fake = F.softplus(discriminator(fake.detach()).float()).mean()
            loss_fake.backward()
            self.opt_d.step()
            self.opt_g.zero_grad(set_to_none=True)
            with self.autocast():
                g_loss = F.softplus(-discriminator(fake).float()).mean()
        else:  # plain: fakes without grad for D, fresh fakes for G
            with self.autocast():
                with torch.no_grad():
                    fake = generator(noise)
                d_loss = F.softplus(-discriminator(real).float()).mean() + F.softplus(discriminator(fake).float()).mean()
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            self.opt_g.zero_grad(set_to_none=True)
            with self.autocast():
                g_loss = F.softplus(-discriminator(generator(torch.randn(batch, 100, device=self.device))).float()).mean()
        g_loss.backward()
        self.opt_g.step()


class RealBatches:
    """Random batches of the preloaded images, on the device in the networks' memory format."""

    def __init__(self, images: torch.Tensor, batch: int, device: str, channels_last: bool) -> None:
        self.images, self.batch = images.to(device), batch
        self.memory = torch.channels_last if channels_last else torch.contiguous_format
        self.order = torch.randperm(len(images), device=device)
        self.step = 0

    def next(self) -> torch.Tensor:
        index = self.order[(self.step * self.batch) % (len(self.images) - self.batch):][:self.batch]
        self.step += 1
        return self.images.index_select(0, index).contiguous(memory_format=self.memory)


def hand_written_loop(args: argparse.Namespace, images: torch.Tensor, device: str, precision: str,
                      channels_last: bool, classic: bool) -> float:
    """The classic loop (``classic=True``) or the plain two-forward loop on ganzoo's networks; images/s."""
    torch.manual_seed(0)
    state = build_state("dcgan", run_config(args, device, precision, channels_last), device=device)
    step = HandWrittenStep(state, precision, device, classic)
    batches = RealBatches(images, args.batch_size, device, channels_last)
    start = 0.0
    for index in range(args.warmup + args.steps):
        if index == args.warmup:
            _sync(device)
            start = time.perf_counter()
        step(batches.next())
    _sync(device)
    return args.steps * args.batch_size / (time.perf_counter() - start)


def paired_steps(args: argparse.Namespace, dataset: DigitsDataset, device: str, precision: str,
                 channels_last: bool) -> tuple[float, float]:
    """Median seconds of ganzoo's train step and of the classic step, alternated step by step in one process.

    ganzoo's step is what the trainer calls each iteration: the model's ``ganzoo_train_step`` hook through the
    plugin host, on the trainer's batch source (``EpochBatchSource``); the classic step trains its own copy of the
    networks.  Alternating single steps exposes both to the same machine state, so their ratio is steadier than
    that of whole runs; the trainer's per-step loop work (metrics on the device, logging) is in the run line.
    """
    config = run_config(args, device, precision, channels_last)
    torch.manual_seed(0)
    state = build_state("dcgan", config, device=device)
    host = get_host()
    loader = EpochLoader(dataset, args.batch_size, seed=0)
    batches = EpochBatchSource(loader, torch.device(device), channels_last=channels_last)
    ganzoo_step = lambda: host.call("ganzoo_train_step", state.spec, state=state, batches=batches)  # noqa: E731
    classic_state = build_state("dcgan", config, device=device)
    classic = HandWrittenStep(classic_state, precision, device, classic=True)
    real = RealBatches(dataset.tensors["image"], args.batch_size, device, channels_last)
    state.train()
    classic_state.train()
    seconds: dict[str, list[float]] = {"ganzoo": [], "classic": []}
    for index in range(args.warmup + args.paired_steps):
        for name, run in (("ganzoo", ganzoo_step), ("classic", lambda: classic(real.next()))):
            _sync(device)
            started = time.perf_counter()
            run()
            _sync(device)
            if index >= args.warmup:
                seconds[name].append(time.perf_counter() - started)
    return statistics.median(seconds["ganzoo"]), statistics.median(seconds["classic"])


def trainer_loop(args: argparse.Namespace, dataset: DigitsDataset, device: str, precision: str,
                 channels_last: bool) -> float:
    """ganzoo's Trainer (default step: fakes reused) on the same data; images/s after warm-up (its metrics log)."""
    config = run_config(args, device, precision, channels_last)
    with tempfile.TemporaryDirectory() as run_dir:
        Trainer(config, run_dir, dataset=dataset).train()
        rows = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    # one row every `warmup` steps with the rate of its window: combine the windows after warm-up
    previous, count, seconds = args.warmup, 0.0, 0.0
    for row in rows:
        if row["step"] > args.warmup:
            window = (row["step"] - previous) * args.batch_size
            count, seconds = count + window, seconds + window / row["images_per_s"]
            previous = row["step"]
    return count / seconds


def load() -> str:
    """The machine's load averages (the CPU is shared: every number is reported with it)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64, help="ngf = ndf")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="measured steps per setting and round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paired-steps", type=int, default=20, help="alternated steps per loop in the paired line")
    parser.add_argument("--no-cpu", action="store_true", help="only the GPU settings (when CUDA is present)")
    args = parser.parse_args()

    dataset = DigitsDataset("train", args.image_size, 3)
    images = dataset.tensors["image"]
    settings = [] if args.no_cpu else [("cpu", "fp32", False), ("cpu", "bf16", True)]
    if torch.cuda.is_available():
        settings += [("cuda", "fp32", False), ("cuda", "bf16", True)]
    else:
        print("no CUDA device: no GPU line")
    print(f"DCGAN-{args.image_size} width {args.width}, batch {args.batch_size}, {torch.get_num_threads()} CPU threads, "
          f"torch {torch.__version__}; load average at start {load()}")
    best: dict[tuple[str, str], float] = {}
    for round_index in range(args.rounds):
        for device, precision, channels_last in settings:
            name = setting_name(device, precision, channels_last)
            loops: dict[str, Callable[[], float]] = {
                "classic": lambda: hand_written_loop(args, images, device, precision, channels_last, classic=True),
                "trainer": lambda: trainer_loop(args, dataset, device, precision, channels_last),
                "plain": lambda: hand_written_loop(args, images, device, precision, channels_last, classic=False),
            }
            for kind, measure in loops.items():
                rate = measure()
                best[(name, kind)] = max(best.get((name, kind), 0.0), rate)
                print(f"round {round_index + 1}: {name:26s} {kind:8s} {rate:8.1f} images/s  (load {load()})", flush=True)
    print(f"\nbest of {args.rounds} rounds (images/s), load average at end {load()}:")
    print(f"  {'setting':26s} {'classic':>9s} {'trainer':>9s} {'plain':>9s}  trainer/classic  plain/classic")
    for device, precision, channels_last in settings:
        name = setting_name(device, precision, channels_last)
        classic, trainer, plain = (best[(name, kind)] for kind in ("classic", "trainer", "plain"))
        print(f"  {name:26s} {classic:9.1f} {trainer:9.1f} {plain:9.1f}  {trainer / classic:15.3f}  "
              f"{plain / classic:13.3f}   {verdict(trainer / classic)}")
    if args.paired_steps:
        print(f"\npaired: ganzoo's train step and the classic step alternated, {args.paired_steps} steps each "
              f"after {args.warmup} of warm-up, median ms/step (load {load()}):")
        for device, precision, channels_last in settings:
            name = setting_name(device, precision, channels_last)
            ganzoo_s, classic_s = paired_steps(args, dataset, device, precision, channels_last)
            ratio = classic_s / ganzoo_s  # a speed ratio: ganzoo's images/s over the classic loop's
            print(f"  {name:26s} classic {1000 * classic_s:7.1f}  ganzoo step {1000 * ganzoo_s:7.1f}  "
                  f"speed ratio {ratio:.3f}   {verdict(ratio)}", flush=True)


if __name__ == "__main__":
    main()
