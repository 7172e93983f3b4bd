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
(target >= 0.97).

    .venv/bin/python benchmarks/train_throughput.py [--image-size 64] [--batch-size 64] [--steps 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from ganzoo import get_model, resolve_config
from ganzoo.config import RunConfig
from ganzoo.data.digits import DigitsDataset
from ganzoo.state import build_state
from ganzoo.trainer import Trainer


def run_config(args: argparse.Namespace, device: str, precision: str, channels_last: bool,
               reuse_fakes: bool = True) -> RunConfig:
    model = {"image_size": args.image_size, "channels": 3, "ngf": args.width, "ndf": args.width, "latent_dim": 100}
    train = {"steps": args.warmup + args.steps, "batch_size": args.batch_size, "device": device,
             "precision": precision, "channels_last": channels_last, "progress": False, "log_every": args.warmup,
             "sample_every": 10**9, "checkpoint_every": 10**9, "seed": 0, "reuse_fakes": reuse_fakes}
    return resolve_config(get_model("dcgan"), values={"model": model, "train": train})


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def hand_written_loop(args: argparse.Namespace, images: torch.Tensor, device: str, precision: str,
                      channels_last: bool, classic: bool) -> float:
    """The classic loop (``classic=True``) or the plain two-forward loop on ganzoo's networks; images/s."""
    torch.manual_seed(0)
    state = build_state("dcgan", run_config(args, device, precision, channels_last), device=device)
    generator, discriminator = state.networks["generator"], state.networks["discriminator"]
    opt_g, opt_d = state.optimizers["generator"], state.optimizers["discriminator"]
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    autocast = lambda: torch.autocast(device, dtype=dtype or torch.bfloat16, enabled=dtype is not None)  # noqa: E731
    memory = torch.channels_last if channels_last else torch.contiguous_format
    images = images.to(device)
    batch = args.batch_size
    order = torch.randperm(len(images), device=device)
    start = 0.0
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            _sync(device)
            start = time.perf_counter()
        index = order[(step * batch) % (len(images) - batch):][:batch]
        real = images.index_select(0, index).contiguous(memory_format=memory)
        noise = torch.randn(batch, 100, device=device)
        if classic:  # pytorch/examples dcgan: D on real, D on fake.detach(), G on the same fake
            opt_d.zero_grad(set_to_none=True)
            with autocast():
                loss_real = F.softplus(-discriminator(real).float()).mean()
            loss_real.backward()
            with autocast():
                fake = generator(noise)
                loss_fake = F.softplus(discriminator(fake.detach()).float()).mean()
            loss_fake.backward()
            opt_d.step()
            opt_g.zero_grad(set_to_none=True)
            with autocast():
                g_loss = F.softplus(-discriminator(fake).float()).mean()
        else:  # plain: fakes without grad for D, fresh fakes for G
            with autocast():
                with torch.no_grad():
                    fake = generator(noise)
                d_loss = F.softplus(-discriminator(real).float()).mean() + F.softplus(discriminator(fake).float()).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad(set_to_none=True)
            with autocast():
                g_loss = F.softplus(-discriminator(generator(torch.randn(batch, 100, device=device))).float()).mean()
        g_loss.backward()
        opt_g.step()
    _sync(device)
    return args.steps * batch / (time.perf_counter() - start)


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
    parser.add_argument("--steps", type=int, default=10, help="measured steps per setting and round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
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
            name = f"{device} {precision}" + ("+channels-last" if channels_last else "")
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
        name = f"{device} {precision}" + ("+channels-last" if channels_last else "")
        classic, trainer, plain = (best[(name, kind)] for kind in ("classic", "trainer", "plain"))
        verdict = "ok" if trainer / classic >= 0.97 else "BELOW target 0.97"
        print(f"  {name:26s} {classic:9.1f} {trainer:9.1f} {plain:9.1f}  {trainer / classic:15.3f}  "
              f"{plain / classic:13.3f}   {verdict}")


if __name__ == "__main__":
    main()
