"""Featurize throughput: utterances per second per modality, with 1 and 2 worker processes.

    python benchmarks/featurize_throughput.py [--utterances 96] [--sbert PATH/TO/MODEL]

Makes real media first (espeak-ng speech: one wav per utterance, 1-3 s; a 2 s
video of a face photograph with speech for every fourth utterance, its window
1.5 s), then runs ``featurize`` once per modality and worker count into a fresh
folder (no cache), side by side in one process. Needs espeak-ng, ffmpeg and the
``audio``/``video`` extras (``text`` for ``--sbert``).
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import tempfile
import time

SENTENCES = ["I am so happy today", "This is terrible news, I cannot believe it", "What a wonderful surprise",
             "I feel sad and tired after all of this", "Stop that right now", "Okay fine, whatever you say"]


def make_media(root: str, n: int) -> str:
    from skimage import data, io
    io.imsave(os.path.join(root, "face.png"), data.astronaut())
    speech = os.path.join(root, "talk.wav")
    subprocess.run(["espeak-ng", "-w", speech, "Hello there, this is a face talking for a while"], check=True)
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-loop", "1", "-i", os.path.join(root, "face.png"), "-i", speech,
                    "-t", "2", "-r", "25", "-vf", "scale=320:320", "-c:v", "mpeg4", "-c:a", "aac", "-shortest",
                    os.path.join(root, "face.mp4")], check=True)
    rows = []
    for i in range(n):
        if i % 4 == 3:
            media, start, end = "face.mp4", 0.2, 1.7
        else:
            media, start, end = f"u{i}.wav", "", ""
            subprocess.run(["espeak-ng", "-w", os.path.join(root, media), SENTENCES[i % len(SENTENCES)]], check=True)
        rows.append([f"d{i // 8}", i % 8, "AB"[i % 2], SENTENCES[i % len(SENTENCES)], "joy", "train", media, start,
                     end])
    path = os.path.join(root, "transcript.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dialogue_id", "utterance_id", "speaker", "text", "emotion", "split", "media", "start",
                         "end"])
        writer.writerows(rows)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--utterances", type=int, default=96)
    p.add_argument("--sbert", help="a local sentence-transformers folder, to time --text sbert:PATH")
    args = p.parse_args()
    from dialoggraph.features import FeaturizeConfig, featurize
    root = tempfile.mkdtemp(prefix="featurize-bench-")
    try:
        transcript = make_media(root, args.utterances)
        settings = [("text", "tfidf", {}), ("audio", "egemaps", {"text": "none"}),
                    ("audio", "compare", {"text": "none"}), ("visual", "hog", {"text": "none"}),
                    ("visual", "lbp", {"text": "none"})]
        if args.sbert:
            settings.insert(1, ("text", f"sbert:{args.sbert}", {}))
        print(f"{args.utterances} utterances ({args.utterances // 4} with a 1.5 s face video window), "
              f"{os.cpu_count()} cores")
        print("| modality | featurizer | utterances with it | workers 1 (utt/s) | workers 2 (utt/s) | ratio |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for modality, spec, extra in settings:
            rates = []
            for workers in (1, 2):
                out = os.path.join(root, f"out-{modality}-{workers}")
                options = {**extra, modality: spec, "workers": workers}
                start = time.perf_counter()
                featurize(transcript, out, root, FeaturizeConfig(**options), progress=False)
                seconds = time.perf_counter() - start
                shutil.rmtree(out)
                count = args.utterances if modality != "visual" else args.utterances // 4
                rates.append(count / seconds)
                if modality == "text":
                    break                                   # text is one batch in the main process
            two = f"{rates[1]:.1f} | {rates[1] / rates[0]:.2f}" if len(rates) > 1 else "- | -"
            print(f"| {modality} | {spec} | {count} | {rates[0]:.1f} | {two} |", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
