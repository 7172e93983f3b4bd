"""PPGN on digits: class accuracy of MCMC samples vs chain length, judged by the bench's independent classifier.

    .venv/bin/python benchmarks/ppgn_mcmc.py RUN_DIR [--steps 0,10,50,200] [--num 500] [--bench]

For each chain length the run draws ``--num`` samples (classes 0..9 in turn, seed 0) and reports the accuracy
of the bench's ``ganzoo-digits-cnn`` on them (the network the ``digits`` protocol uses for IS/FID, not the
condition network the chains climb), the mean log p(y | x) under the condition network, and seconds per 1000
samples.  ``--bench`` also runs ``ganzoo bench`` (FID/KID/IS under the ``digits`` protocol) at the run's own
chain length.  A measurement, not a test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--steps", default="0,10,50,200", help="chain lengths (comma-separated)")
    parser.add_argument("--num", type=int, default=500, help="samples per chain length")
    parser.add_argument("--batch", type=int, default=250, help="chains run together")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="sample.KEY=VALUE",
                        help="sampler settings to change (e.g. sample.epsilon1=1e-3)")
    parser.add_argument("--bench", action="store_true", help="also FID/KID/IS under the digits protocol")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from ganzoo.checkpoint import load_run
    from ganzoo.metrics.classifier import load_classifier
    from ganzoo_ppgn.training import sample_chains

    loaded = load_run(args.run_dir, device="cpu")
    state = loaded.state
    _apply(state, args.overrides)
    judge, _ = load_classifier("digits-cnn")
    print(f"run {args.run_dir} (step {loaded.step}); judge: ganzoo-digits-cnn; condition network: "
          f"{state.model_config.classifier}")
    print(f"{'steps':>6} {'accuracy':>9} {'log p(y|x)':>11} {'s/1000':>8}")
    for steps in [int(s) for s in args.steps.split(",")]:
        state.config.sample.steps = steps
        generator = torch.Generator().manual_seed(0)
        correct, log_p, started = 0, 0.0, time.perf_counter()
        for first in range(0, args.num, args.batch):
            labels = torch.arange(first, min(first + args.batch, args.num)) % state.model_config.num_classes
            result = sample_chains(state, len(labels), labels, generator)
            with torch.no_grad():
                correct += int((judge(result.images.clamp(-1, 1))[1].argmax(1) == labels).sum())
            log_p += float(result.log_probs[-1].sum())
        seconds = time.perf_counter() - started
        print(f"{steps:>6} {correct / args.num:>9.3f} {log_p / args.num:>11.3f} {1000 * seconds / args.num:>8.1f}")
    if args.bench:
        from ganzoo.metrics.bench import load_target, resolve_protocol, run_benchmark

        protocol, extractor = resolve_protocol(loaded.spec.task, dataset="digits")
        target = load_target(args.run_dir)
        _apply(target.state, args.overrides)
        started = time.perf_counter()
        result = run_benchmark(target, protocol, extractor, metrics=["isc", "fid", "kid"], sample_grid=False)
        metrics = result.metrics
        print(f"digits protocol ({protocol.num_samples} samples, {target.state.config.sample.steps} steps): "
              f"FID {metrics['fid']:.2f}  KID {metrics['kid']:.4f}  IS {metrics['isc']:.2f}  "
              f"({time.perf_counter() - started:.0f} s)")


def _apply(state: object, overrides: list[str]) -> None:
    """``sample.KEY=VALUE`` settings onto a loaded state (no progress bars in a measurement)."""
    from ganzoo.config import ConfigError, parse_override

    for text in overrides:
        section, key, value = parse_override(text)
        if section != "sample":
            raise ConfigError(f"--set {text}: only sample.* settings can change after training")
        setattr(state.config.sample, key, value)
    state.config.sample.progress = False


if __name__ == "__main__":
    main()
