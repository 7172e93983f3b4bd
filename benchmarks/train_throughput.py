"""Images/s of ganzoo's trainer against a plain hand-written PyTorch loop, side by side in one process.

Both train the same DCGAN networks (64 px RGB by default, ngf = ndf = 64) with the same batch size on the
same preloaded data (the embedded digits at 64 px, 3 channels), in fp32 and with bf16 autocast +
channels-last.  Settings are measured in alternation (several rounds, best of each kept) so that a busy
machine penalises all of them alike.  Prints one line per setting and the ratios:

* trainer fp32 / plain fp32: the framework's overhead (should be >= 0.95);
* trainer bf16+channels-last / plain fp32: the best CPU setting (DCGAN-64, batch 64, 2 cores: >= 1.7).

    .venv/bin/python benchmarks/train_throughput.py [--image-size 64] [--batch-size 64] [--steps 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo import get_model, resolve_config
from ganzoo.config import RunConfig
from ganzoo.data.digits import DigitsDataset
from ganzoo.state import build_state
from ganzoo.trainer import Trainer


def run_config(args: argparse.Namespace, steps: int, precision: str, channels_last: bool) -> RunConfig:
    model = {"image_size": args.image_size, "channels": 3, "ngf": args.width, "ndf": args.width, "latent_dim": 100}
    train = {"steps": steps, "batch_size": args.batch_size, "device": "cpu", "precision": precision,
             "channels_last": channels_last, "progress": False, "log_every": args.warmup, "sample_every": 10**9,
             "checkpoint_every": 10**9, "seed": 0}
    return resolve_config(get_model("dcgan"), values={"model": model, "train": train})


def plain_loop(args: argparse.Namespace, images: torch.Tensor, precision: str, channels_last: bool) -> float:
    """A hand-written DCGAN loop (no framework) on the same networks; returns images/s after warm-up."""
    config = run_config(args, args.warmup + args.steps, precision, channels_last)
    torch.manual_seed(0)
    state = build_state("dcgan", config, device="cpu")  # only to get identical networks and optimizers
    generator, discriminator = state.networks["generator"], state.networks["discriminator"]
    opt_g, opt_d = state.optimizers["generator"], state.optimizers["discriminator"]
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    memory = torch.channels_last if channels_last else torch.contiguous_format
    batch = args.batch_size
    order = torch.randperm(len(images))
    start = 0.0
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start = time.perf_counter()
        index = order[(step * batch) % (len(images) - batch):][:batch]
        real = images.index_select(0, index).contiguous(memory_format=memory)
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            with torch.no_grad():
                fake = generator(torch.randn(batch, 100))
            d_loss = F.softplus(-discriminator(real).float()).mean() + F.softplus(discriminator(fake).float()).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            g_loss = F.softplus(-discriminator(generator(torch.randn(batch, 100))).float()).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
    float(g_loss.detach())  # wait for the last step (a no-op on the CPU, a sync on GPUs)
    return args.steps * batch / (time.perf_counter() - start)


def trainer_loop(args: argparse.Namespace, dataset: DigitsDataset, precision: str, channels_last: bool) -> float:
    """ganzoo's Trainer on the same data; images/s of the steps after warm-up (from its metrics log)."""
    config = run_config(args, args.warmup + args.steps, precision, channels_last)
    with tempfile.TemporaryDirectory() as run_dir:
        Trainer(config, run_dir, dataset=dataset).train()
        rows = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    # rows every `warmup` steps, each with the rate of its window: combine the windows after warm-up
    previous, images, seconds = args.warmup, 0.0, 0.0
    for row in rows:
        if row["step"] > args.warmup:
            window = (row["step"] - previous) * args.batch_size
            images, seconds = images + window, seconds + window / row["images_per_s"]
            previous = row["step"]
    return images / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64, help="ngf = ndf")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="measured steps per setting and round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    dataset = DigitsDataset("train", args.image_size, 3)
    images = dataset.tensors["image"]
    settings = [("fp32", False), ("bf16", True)]
    best: dict[str, float] = {}
    print(f"DCGAN-{args.image_size} width {args.width}, batch {args.batch_size}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}")
    for round_index in range(args.rounds):
        for precision, channels_last in settings:
            name = precision + ("+channels-last" if channels_last else "")
            for kind, measure in (("plain", lambda: plain_loop(args, images, precision, channels_last)),
                                  ("trainer", lambda: trainer_loop(args, dataset, precision, channels_last))):
                rate = measure()
                key = f"{kind} {name}"
                best[key] = max(best.get(key, 0.0), rate)
                print(f"round {round_index + 1}: {key:28s} {rate:8.1f} images/s", flush=True)
    plain32 = best["plain fp32"]
    print("\nbest of rounds (images/s):")
    for key, rate in best.items():
        print(f"  {key:28s} {rate:8.1f}  ({rate / plain32:.2f}x plain fp32)")
    print(f"\ntrainer fp32 / plain fp32                   = {best['trainer fp32'] / plain32:.3f}  (target >= 0.95)")
    print(f"trainer bf16+channels-last / plain fp32     = {best['trainer bf16+channels-last'] / plain32:.3f}  "
          "(target >= 1.7)")
    print(f"plain bf16+channels-last / plain fp32       = {best['plain bf16+channels-last'] / plain32:.3f}")


if __name__ == "__main__":
    main()
