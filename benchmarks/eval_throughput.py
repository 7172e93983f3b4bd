"""Evaluation speed: ``ganzoo bench`` against the common practice of PNG files + the ``fidelity`` command.

    .venv/bin/python benchmarks/eval_throughput.py [--run RUN_DIR] [--num-samples 10000] [--repeats 2]

Both sides evaluate the same checkpoint with the same N, feature extractor and metric parameters, and
both reuse cached reference statistics (a warm-up run of each fills the caches first), so the timings
compare the per-evaluation cost a user pays after training:

* ganzoo: ``ganzoo bench RUN_DIR`` (samples generated in memory, in batches, straight into the extractor);
* common practice: a short script samples the same generator (same sampler, batches and seed, so the
  images are identical) and writes N PNG files with PIL, then the ``fidelity`` command (torch-fidelity's
  CLI, default settings) reads them back against a folder of reference PNGs.
  The shipped ``ganzoo-digits-cnn`` extractor is registered before torch-fidelity's CLI entry point runs,
  since the standard InceptionV3 weights cannot be downloaded here.

Without ``--run`` a dcgan (reference config widths) is trained for one step into a temporary folder: the
timings do not depend on the weights.  Prints a side-by-side table and the speed-up.  The default N is
10,000 (published protocols use 10k-50k): at small N both sides are dominated by the ~3.5 s it takes to
import torch-fidelity (torchvision), which neither can avoid.

Measured on the 2-core development machine (dcgan, digits protocol, best of 2-3):
N=2,000: 5.3 s vs 9.2 s (1.7x); N=10,000: 9.5 s vs 25.4 s (2.7x) when quiet; N=10,000 at load average 10
(shared with four other sessions): 43.0 s vs 97.2 s (2.3x); N=10,000 quiet, 2026-12-05 (after the sklearn-free
digits and the folded extractor): 6.04 s vs 17.88 s (2.96x); after the ``ganzoo`` command's collector change,
five runs at load 0.2-1.7: 4.42-5.41 s vs 13.56-17.74 s (2.86-3.72x, median 3.3x).
All runs: docs/benchmarking.md, "Speed".
Peak memory per N: ``bench_memory.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GANZOO = [PYTHON, "-m", "ganzoo"]
WRITE_PNGS = """
import sys
from pathlib import Path

import torch
from PIL import Image

from ganzoo.checkpoint import load_run
from ganzoo.data.images import to_uint8
from ganzoo.plugins import get_host

run, n, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
loaded, host = load_run(run), get_host()
out.mkdir(parents=True, exist_ok=True)
generator, written = torch.Generator().manual_seed(0), 0
while written < n:
    images = to_uint8(host.call("ganzoo_sample", loaded.spec, state=loaded.state, num=min(100, n - written),
                                generator=generator))
    for image in images:
        Image.fromarray(image.permute(1, 2, 0).squeeze(-1).numpy()).save(out / f"{written:06d}.png")
        written += 1
"""
FIDELITY_SHIM = (
    "import sys; from ganzoo.metrics.extractors import resolve_extractor; resolve_extractor('ganzoo-digits-cnn'); "
    "from torch_fidelity.fidelity import main; sys.argv[0] = 'fidelity'; main()"
)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall-clock seconds of a subprocess and its standard output (fails loudly)."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def make_run(folder: Path) -> Path:
    from ganzoo.trainer import train

    out = folder / "dcgan"
    train("dcgan", out, config=ROOT / "configs" / "dcgan-digits.toml", steps=1, progress=False)
    return out


def write_reference_pngs(folder: Path) -> int:
    """The digits held-out split as PNG files (what the common practice compares against)."""
    from PIL import Image

    from ganzoo.metrics.protocol import get_preset
    from ganzoo.metrics.reference import reference_images

    images = reference_images(get_preset("digits"))
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(len(images)):
        Image.fromarray(images[index][0].numpy(), mode="L").save(folder / f"{index:05d}.png")
    return len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="run directory to evaluate (default: a 1-step dcgan)")
    parser.add_argument("--num-samples", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per side (the best is reported)")
    args = parser.parse_args()
    n = args.num_samples
    work = Path(tempfile.mkdtemp(prefix="ganzoo-eval-throughput-"))
    env = dict(os.environ, GANZOO_CACHE_DIR=str(work / "cache"), TQDM_DISABLE="1")
    try:
        run = args.run or make_run(work)
        reference = work / "reference"
        write_reference_pngs(reference)
        metric_flags = ["--isc-splits", "10", "--kid-subsets", "50", "--kid-subset-size", "250", "--prc-neighborhood", "3"]
        bench = [*GANZOO, "bench", str(run), "--num-samples", str(n), "--json"]
        samples = work / "samples"
        write = [PYTHON, "-c", WRITE_PNGS, str(run), str(n), str(samples)]
        fidelity = [PYTHON, "-c", FIDELITY_SHIM, "--input1", str(samples), "--input2", str(reference),
                    "--input2-cache-name", "digits-test-pngs", "--cache-root", str(work / "fidelity-cache"),
                    "--feature-extractor", "ganzoo-digits-cnn", "--isc", "--fid", "--kid", "--prc", "--cpu",
                    "--json", "--silent", "--rng-seed", "0", *metric_flags]

        def common_practice() -> tuple[float, float, dict]:
            shutil.rmtree(samples, ignore_errors=True)
            t_write, _ = timed(write, env)
            t_fid, out = timed(fidelity, env)
            return t_write, t_fid, json.loads(out)

        timed(bench, env)  # warm-up: caches the reference statistics
        common_practice()
        ours = [timed(bench, env) for _ in range(args.repeats)]
        theirs = [common_practice() for _ in range(args.repeats)]
        t_ours, out_ours = min(ours, key=lambda item: item[0])
        t_write, t_fid, out_theirs = min(theirs, key=lambda item: item[0] + item[1])
        ganzoo_metrics = json.loads(out_ours)["metrics"]
        print(f"evaluation of {run} with N={n} samples, digits protocol, ganzoo-digits-cnn, "
              f"{os.cpu_count()} CPU cores (best of {args.repeats}, reference statistics cached on both sides)\n")
        print(f"{'':34s} {'seconds':>8s}  {'FID':>8s}  {'IS':>6s}")
        print(f"{'ganzoo bench (in memory)':34s} {t_ours:8.2f}  {ganzoo_metrics['fid']:8.2f}  {ganzoo_metrics['isc']:6.3f}")
        print(f"{'sample -> N PNG files (PIL)':34s} {t_write:8.2f}")
        print(f"{'fidelity on the PNG folder':34s} {t_fid:8.2f}  {out_theirs['frechet_inception_distance']:8.2f}  "
              f"{out_theirs['inception_score_mean']:6.3f}")
        print(f"{'PNG files + fidelity, total':34s} {t_write + t_fid:8.2f}")
        print(f"\nspeed-up of ganzoo bench: {(t_write + t_fid) / t_ours:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
