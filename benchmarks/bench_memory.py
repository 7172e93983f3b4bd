"""Peak memory of ``ganzoo bench`` as the number of samples grows, beside torch-fidelity's own metric pass.

    .venv/bin/python benchmarks/bench_memory.py [--run RUN_DIR] [--num-samples 1000,10000,50000]
                                                [--metrics isc,fid,kid,prc] [--no-fidelity]

For every N, one child process per column (peak RSS from ``wait4``, so each number is that process alone):

* ``ganzoo bench``: ``ganzoo bench RUN --num-samples N`` (digits protocol, ``kid_subset_size=300``);
* ``torch-fidelity``: the same model input, protocol and arguments handed to ``torch_fidelity.calculate_metrics``
  (what ``ganzoo bench`` did before it streamed features into preallocated tensors);
* the import baseline: a process that only imports torch, torch-fidelity and ganzoo's bench module.  Nothing
  can go below it; with the CUDA build of torch it is ~0.8 GB, so "peak minus imports" is what evaluation adds.

Without ``--run`` a dcgan is trained for one step into a temporary folder (memory does not depend on weights).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = "import torch, torch_fidelity, ganzoo.metrics.bench"
FIDELITY_PASS = """
import sys, torch, torch_fidelity
from ganzoo.metrics.bench import model_input, prepare
from ganzoo.metrics.reference import default_cache_root, fidelity_kwargs, register_reference

run, n, metrics = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
target, protocol, extractor = prepare(run, num_samples=n, kid_subset_size=300)
torch_fidelity.calculate_metrics(
    input1=model_input(target, protocol), input1_model_num_samples=n, input2=register_reference(protocol),
    **{name: name in metrics for name in ("isc", "fid", "kid", "prc")}, feature_extractor=extractor.registry_name,
    feature_extractor_weights_path=extractor.weights_path,
    **fidelity_kwargs(protocol, default_cache_root(), torch.device("cpu"), False))
"""


def peak_rss(command: list[str], env: dict[str, str]) -> tuple[int, float]:
    """Peak RSS (MiB) and wall seconds of one child process (fails loudly)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env, cwd=ROOT, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"failed: {' '.join(command)}\n{errors.read()[-3000:]}")
    return usage.ru_maxrss // 1024, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="run directory to evaluate (default: a 1-step dcgan)")
    parser.add_argument("--num-samples", default="1000,10000,50000", help="comma-separated N")
    parser.add_argument("--metrics", default="isc,fid,kid,prc")
    parser.add_argument("--no-fidelity", action="store_true", help="skip the torch-fidelity column")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ganzoo-bench-memory-") as work:
        env = dict(os.environ, GANZOO_CACHE_DIR=str(Path(work) / "cache"), TQDM_DISABLE="1")
        run = args.run
        if run is None:
            run = Path(work) / "dcgan"
            subprocess.run([sys.executable, "-m", "ganzoo", "train", "dcgan", "--config",
                            str(ROOT / "configs" / "dcgan-digits.toml"), "--steps", "1", "--out", str(run),
                            "--no-progress"], check=True, stdout=subprocess.DEVNULL, env=env)
        bench = [sys.executable, "-m", "ganzoo", "bench", str(run), "--metrics", args.metrics,
                 "--set-protocol", "kid_subset_size=300", "--json"]
        peak_rss([*bench, "--num-samples", "1000"], env)  # warm-up: caches the reference statistics
        baseline, _ = peak_rss([sys.executable, "-c", IMPORTS], env)
        print(f"load average {os.getloadavg()[0]:.2f}; metrics {args.metrics}; import baseline {baseline} MiB\n")
        print(f"{'N':>7s}  {'ganzoo bench':>13s}  {'- imports':>9s}  {'seconds':>7s}"
              + ("" if args.no_fidelity else f"  {'torch-fidelity':>14s}  {'- imports':>9s}  {'seconds':>7s}"))
        for n in (int(part) for part in args.num_samples.split(",")):
            ours, t_ours = peak_rss([*bench, "--num-samples", str(n)], env)
            line = f"{n:7d}  {ours:9d} MiB  {ours - baseline:5d} MiB  {t_ours:7.1f}"
            if not args.no_fidelity:
                theirs, t_theirs = peak_rss([sys.executable, "-c", FIDELITY_PASS, str(run), str(n), args.metrics], env)
                line += f"  {theirs:10d} MiB  {theirs - baseline:5d} MiB  {t_theirs:7.1f}"
            print(line, flush=True)
        print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
