"""From recordings to emotions: record, featurize, train, predict on a new call.

    python examples/raw_conversations.py [--out runs/raw_conversations]

Needs espeak-ng and ffmpeg (``apt-get install espeak-ng ffmpeg``) to make the
recordings, and ``pip install -e ".[audio,video]"``. It writes a small set of
spoken conversations (espeak-ng voices, one wav per conversation with each
utterance's start/end in the transcript, and a video of a face photograph for
one speaker), then runs the three commands a user runs on their own data:

    dialoggraph featurize --transcripts talks.csv --out features --audio egemaps --visual hog
    dialoggraph train --model amb_dsgdn --dataset folder --root features --out run
    dialoggraph predict --checkpoint run/best.pt --transcripts new_call.csv --out predictions.csv

The set is tiny and synthetic speech carries little emotion: the point is the
path, not the score.
"""
import argparse
import csv
import os
import subprocess
import wave

import numpy as np

from dialoggraph.cli import main

SAY = {"joy": ["I got the job, this is the best day ever", "We won the match, I am so happy"],
       "sadness": ["My dog died last night", "I failed the exam again, I feel terrible"],
       "anger": ["You broke my phone and you did not even say sorry", "Stop lying to me right now"],
       "neutral": ["The train leaves at nine", "I will send you the file tomorrow"]}
VOICES = {"Ann": "en+f3", "Bob": "en+m3"}


def speak(text: str, voice: str, path: str) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-w", path, text], check=True, capture_output=True)
    with wave.open(path) as f:
        return np.frombuffer(f.readframes(f.getnframes()), np.int16), f.getframerate()


def record(folder: str, name: str, turns: list[tuple[str, str]]) -> list[list]:
    """One wav for the conversation; rows with each turn's window in it."""
    audio, rows, t, rate = [], [], 0.0, 22050
    for i, (speaker, emotion) in enumerate(turns):
        text = SAY[emotion][i % 2]
        samples, rate = speak(text, VOICES[speaker], os.path.join(folder, "turn.wav"))
        pause = np.zeros(int(0.4 * rate), np.int16)
        audio += [samples, pause]
        rows.append([name, i, speaker, text, emotion, f"{name}.wav", round(t, 3), round(t + len(samples) / rate, 3)])
        t += (len(samples) + len(pause)) / rate
    with wave.open(os.path.join(folder, f"{name}.wav"), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(rate)
        f.writeframes(np.concatenate(audio).tobytes())
    os.remove(os.path.join(folder, "turn.wav"))
    return rows


def write(path: str, rows: list[list], header: list[str]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def main_example() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/raw_conversations")
    args = p.parse_args()
    media = os.path.join(args.out, "recordings")
    os.makedirs(media, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = []
    for c in range(24):
        emotions = list(SAY)
        turns = [(("Ann", "Bob")[i % 2], emotions[int(rng.integers(4))]) for i in range(4)]
        split = "test" if c >= 20 else "train"
        rows += [r[:5] + [split] + r[5:] for r in record(media, f"call{c}", turns)]
    header = ["dialogue_id", "utterance_id", "speaker", "text", "emotion", "split", "media", "start", "end"]
    write(os.path.join(media, "talks.csv"), rows, header)

    # a face on video for one new turn: a photograph (scikit-image's astronaut) with a spoken line
    from skimage import data, io
    io.imsave(os.path.join(media, "face.png"), data.astronaut())
    speak("I cannot believe you did that to me", VOICES["Ann"], os.path.join(media, "line.wav"))
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-loop", "1", "-i", os.path.join(media, "face.png"), "-i",
                    os.path.join(media, "line.wav"), "-t", "3", "-r", "10", "-vf", "scale=256:256", "-c:v", "mpeg4",
                    "-c:a", "aac", "-shortest", os.path.join(media, "new_call.mp4")], check=True)
    new = record(media, "new_call_audio", [("Bob", "joy"), ("Ann", "sadness")])
    new = [r[:4] + r[5:] for r in new] + [["new_call_audio", 2, "Ann", "I cannot believe you did that to me",
                                          "new_call.mp4", 0.0, 2.5]]
    write(os.path.join(media, "new_call.csv"), new, ["dialogue_id", "utterance_id", "speaker", "text", "media",
                                                     "start", "end"])

    features, run = os.path.join(args.out, "features"), os.path.join(args.out, "run")
    steps = [["featurize", "--transcripts", os.path.join(media, "talks.csv"), "--out", features, "--audio",
              "egemaps", "--visual", "hog", "--tfidf-dim", "16", "--overwrite"],
             ["train", "--model", "amb_dsgdn", "--dataset", "folder", "--root", features, "--epochs", "15",
              "--hidden", "64", "--lr", "1e-3", "--out", run, "--overwrite"],
             ["predict", "--checkpoint", os.path.join(run, "best.pt"), "--transcripts",
              os.path.join(media, "new_call.csv"), "--out", os.path.join(args.out, "predictions.csv")]]
    for step in steps:
        print("\n$ dialoggraph " + " ".join(step), flush=True)
        if main(step) != 0:
            raise SystemExit(1)
    with open(os.path.join(args.out, "predictions.csv")) as f:
        for r in csv.DictReader(f):
            print(f"{r['speaker']:>4}: {r['text']:<45} -> {r['predicted']}")


if __name__ == "__main__":
    main_example()
