"""Featurize on one machine and on Ray: utterances per second for ``--engine local`` and
``--engine ray`` with 1 and 2 workers.

    python benchmarks/featurize_scale.py [--utterances 240] [--address ADDR]

Makes real media first (``featurize_throughput.make_media``: espeak-ng speech of 1-3 s per
utterance, every fourth utterance a 1.5 s window of a face video), then featurizes it with
``--audio egemaps --visual hog --text none`` into a fresh folder (no cache) once per engine and
worker count, side by side in one process. Ray runs on a local cluster of this machine's
CPUs on 127.0.0.1 (or joins ``--address``); its start-up is timed apart and not counted. Needs
espeak-ng, ffmpeg and the ``audio``, ``video`` and ``ray`` extras.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

from featurize_throughput import make_media


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--utterances", type=int, default=240)
    p.add_argument("--address", help="a Ray cluster to join (default: a local one on 127.0.0.1)")
    args = p.parse_args()
    import ray
    from dialoggraph.features import FeaturizeConfig, featurize
    root = tempfile.mkdtemp(prefix="featurize-scale-")
    try:
        transcript = make_media(root, args.utterances)
        start = time.perf_counter()
        if args.address:
            ray.init(address=args.address, log_to_driver=False)
        else:
            ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False)
        started = time.perf_counter() - start
        cpus = int(ray.cluster_resources().get("CPU", 0))
        print(f"{args.utterances} utterances (egemaps on all, hog faces on {args.utterances // 4}), "
              f"{os.cpu_count()} cores here, Ray cluster of {cpus} CPUs started in {started:.1f} s")
        print("| engine | workers | seconds | utterances/s | vs local, 1 worker |")
        print("| --- | ---: | ---: | ---: | ---: |")
        base = None
        for engine, workers in (("local", 1), ("local", 2), ("ray", 1), ("ray", 2)):
            out = os.path.join(root, f"out-{engine}-{workers}")
            config = FeaturizeConfig(text="none", audio="egemaps", visual="hog", workers=workers)
            begin = time.perf_counter()
            featurize(transcript, out, root, config, progress=False, engine=engine)
            seconds = time.perf_counter() - begin
            shutil.rmtree(out)
            base = base or seconds
            print(f"| {engine} | {workers} | {seconds:.1f} | {args.utterances / seconds:.1f} | "
                  f"{base / seconds:.2f} |", flush=True)
    finally:
        ray.shutdown()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
