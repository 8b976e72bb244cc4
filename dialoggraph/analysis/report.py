"""An evaluation report of a trained model on one split: what it gets right and wrong, and how
it holds up when a modality is noisy or missing.

    report = evaluation_report(model, test_set, label_names)
    write_report(report, "report/")        # report.md, report.html, metrics.json, figures

``dialoggraph evaluate --checkpoint C --report DIR`` does both.
"""
from __future__ import annotations

import base64
import html
import os
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from dialoggraph.analysis import figures
from dialoggraph.analysis.breakdown import (bootstrap_scores, confusion_by_dialogue, dialogue_index,
                                            emotion_shift, length_and_position)
from dialoggraph.analysis.robustness import GaussianNoise, removed, zeroed
from dialoggraph.io import atomic_write, atomic_write_json
from dialoggraph.plotting import save_figure
from dialoggraph.train.evaluation import predict
from dialoggraph.train.metrics import classification_metrics

SNRS = (20.0, 10.0, 5.0, 0.0)
"""The default signal-to-noise ratios (dB) of the robustness curves."""


def _scores(metrics: dict) -> dict[str, float]:
    return {k: metrics[k] for k in ("accuracy", "weighted_f1", "macro_f1")}


def evaluation_report(model, dataset, label_names: Sequence[str], *, device: str = "cpu", batch_size: int = 32,
                      snrs: Sequence[float] = SNRS, bootstrap: int = 1000, seed: int = 0,
                      robustness: bool = True) -> dict[str, Any]:
    """Every number of the report, JSON-ready (fractions in [0, 1]).

    Args:
        model: a trained :class:`~dialoggraph.models.DialogueModel`.
        dataset: the labelled split to analyse, built with the model's ``pre_transform``.
        label_names: the class names, index = class id.
        snrs: signal-to-noise ratios (dB) of the noise curves, one modality at a time.
        bootstrap: resamples of the dialogues for the 95% intervals.
        seed: seed of the bootstrap and of the noise.
        robustness: run the noise and missing-modality passes (one pass over the split each).

    Returns:
        ``overall`` (accuracy, weighted / macro F1, each with ``*_ci``; ``macro_f1_supported``: the
        macro F1 over the classes with support in the split), ``per_class``
        (precision, recall, F1 with intervals, support), ``confusion`` (counts and
        row-normalised), ``emotion_shift``, ``length``, ``position``, ``modality_heads`` (scores of
        the per-modality heads, where the model has two or more), ``robustness`` (``noise``: scores per
        modality and SNR; ``missing``: per modality ``zeroed`` and ``removed``, the latter
        ``None`` where the model cannot run without it) and ``meta``.
    """
    names = list(label_names)
    out = predict(model, dataset, batch_size, device)
    y, pred = out["y"], out["probs"].argmax(-1)
    lengths = [len(s) for s in out["speakers"]]
    dialogue = dialogue_index(lengths)
    speaker = np.array([i for speakers in out["speakers"] for i in _local_ids(speakers)], dtype=int)
    keep = y >= 0
    labels = list(range(len(names)))
    precision, recall, f1, support = precision_recall_fscore_support(y[keep], pred[keep], labels=labels,
                                                                     zero_division=0)
    overall = _scores(classification_metrics(y, pred, names))
    overall["macro_f1_supported"] = float(f1[support > 0].mean()) if (support > 0).any() else 0.0
    ci = bootstrap_scores(confusion_by_dialogue(y, pred, dialogue, len(lengths), len(names)), bootstrap, seed)
    for k in list(overall):
        overall[f"{k}_ci"] = ci[k].tolist()
    overall.update(num_utterances=int(keep.sum()), num_dialogues=len(lengths))
    per_class = {n: {"precision": float(precision[c]), "recall": float(recall[c]), "f1": float(f1[c]),
                     "support": int(support[c]), "precision_ci": ci["precision"][:, c].tolist(),
                     "recall_ci": ci["recall"][:, c].tolist(), "f1_ci": ci["f1"][:, c].tolist()}
                 for c, n in enumerate(names)}
    counts = confusion_matrix(y[keep], pred[keep], labels=labels)
    rows = counts.sum(1, keepdims=True)
    report = {
        "overall": overall, "per_class": per_class,
        "confusion": {"labels": names, "counts": counts.tolist(),
                      "normalised": np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0).tolist()},
        "emotion_shift": emotion_shift(y, pred, speaker, dialogue),
        **length_and_position(y, pred, lengths),
        "modality_heads": {m: _scores(classification_metrics(y, p.argmax(-1), names))
                           for m, p in out["modality_probs"].items()} if len(out["modality_probs"]) > 1 else {},
        "meta": {"model": type(model).__name__, "modalities": list(model.modalities), "bootstrap": bootstrap,
                 "seed": seed, "labels": names},
    }
    if robustness:
        report["robustness"] = robustness_scores(model, dataset, names, snrs, device, batch_size, seed)
    return report


def _local_ids(speakers: Sequence[str]) -> list[int]:
    """Dialogue-local speaker ids in order of first appearance."""
    ids: dict[str, int] = {}
    return [ids.setdefault(s, len(ids)) for s in speakers]


def robustness_scores(model, dataset, label_names: Sequence[str], snrs: Sequence[float] = SNRS,
                      device: str = "cpu", batch_size: int = 32, seed: int = 0) -> dict[str, Any]:
    """Scores with :class:`GaussianNoise` on one modality at each SNR, and with each modality
    zeroed and (where the model supports it) removed; ``notes`` say what was refused and why."""
    def scores(perturb):
        out = predict(model, dataset, batch_size, device, perturb=perturb)
        return _scores(classification_metrics(out["y"], out["probs"].argmax(-1), label_names))
    result: dict[str, Any] = {"noise": {}, "missing": {}, "notes": []}
    for m in model.modalities:
        result["noise"][m] = [{"snr_db": float(s), **scores(GaussianNoise(m, s, seed))} for s in snrs]
        result["missing"][m] = {"zeroed": scores(zeroed(m)), "removed": None}
        try:
            result["missing"][m]["removed"] = scores(removed(model, m))
        except ValueError as exc:
            result["notes"].append(str(exc))
    return result


# -- writing ---------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _interval(value: float, ci: Sequence[float]) -> str:
    return f"{100 * value:.2f} [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]"


def report_tables(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The report's tables as ``(title, header, rows)`` of strings, shared by Markdown and HTML."""
    o = report["overall"]
    absent = [n for n, c in report["per_class"].items() if c["support"] == 0]
    macro = [["macro F1, all classes", _interval(o["macro_f1"], o["macro_f1_ci"])],
             [f"macro F1 without {', '.join(absent)} (no test support)",
              _interval(o["macro_f1_supported"], o["macro_f1_supported_ci"])]] if absent else \
        [["macro f1", _interval(o["macro_f1"], o["macro_f1_ci"])]]
    tables = [("Overall (95% bootstrap interval over dialogues)", ["score", "value"],
               [[k.replace("_", " "), _interval(o[k], o[f"{k}_ci"])] for k in ("accuracy", "weighted_f1")] + macro
               + [["utterances / dialogues", f"{o['num_utterances']} / {o['num_dialogues']}"]]),
              ("Per class", ["class", "precision", "recall", "F1 [95% interval]", "support"],
               [[n, _pct(c["precision"]), _pct(c["recall"]), _interval(c["f1"], c["f1_ci"]), str(c["support"])]
                if c["support"] else [n, "", "", "no test support", "0"]
                for n, c in report["per_class"].items()])]
    shift = report["emotion_shift"]
    tables.append(("Emotion shift (accuracy; the previous labelled utterance of the same speaker, or of "
                   "another speaker)", ["", "shift", "n", "no shift", "n"],
                   [[side.replace("_", "-"), _pct(shift[side]["shift"]["accuracy"]), str(shift[side]["shift"]["count"]),
                     _pct(shift[side]["no_shift"]["accuracy"]), str(shift[side]["no_shift"]["count"])]
                    for side in ("intra_speaker", "inter_speaker")]))
    for key, title in (("length", "Accuracy by dialogue length (utterances)"),
                       ("position", "Accuracy by position in the dialogue")):
        tables.append((title, ["bucket", "accuracy", "n"],
                       [[b["bucket"], _pct(b["accuracy"]), str(b["count"])] for b in report[key]]))
    if report["modality_heads"]:
        tables.append(("Per-modality heads", ["head", "accuracy", "weighted F1", "macro F1"],
                       [[m, _pct(s["accuracy"]), _pct(s["weighted_f1"]), _pct(s["macro_f1"])]
                        for m, s in {**report["modality_heads"], "fused": o}.items()]))
    robust = report.get("robustness")
    if robust:
        snrs = [p["snr_db"] for p in next(iter(robust["noise"].values()))]
        tables.append(("Weighted F1 with Gaussian noise on one modality (SNR in dB; clean "
                       f"{_pct(o['weighted_f1'])})", ["modality"] + [f"{s:g} dB" for s in snrs],
                       [[m] + [_pct(p["weighted_f1"]) for p in points] for m, points in robust["noise"].items()]))
        tables.append(("Weighted F1 with one modality missing", ["modality", "zeroed", "removed"],
                       [[m, _pct(w["zeroed"]["weighted_f1"]),
                         _pct(w["removed"]["weighted_f1"]) if w["removed"] else "not supported"]
                        for m, w in robust["missing"].items()]))
    return tables


def write_report(report: dict[str, Any], out_dir: str, title: str = "Evaluation report") -> list[str]:
    """Write ``metrics.json``, the figures (PNG and SVG), ``report.md`` and a self-contained
    ``report.html`` (figures embedded) into ``out_dir``; every file atomically. Returns the
    paths written."""
    os.makedirs(out_dir, exist_ok=True)
    written = [os.path.join(out_dir, "metrics.json")]
    atomic_write_json(written[0], report)
    names = report["confusion"]["labels"]
    drawn = [("per_class", "Per class", figures.per_class_figure(report["per_class"])),
             ("confusion", "Confusion matrix", figures.confusion_figure(report["confusion"]["counts"], names)),
             ("shift_length_position", "Emotion shift, dialogue length, position",
              figures.shift_figure(report["emotion_shift"], report))]
    if report["modality_heads"]:
        drawn.append(("modality_heads", "Per-modality heads",
                      figures.modality_heads_figure(report["modality_heads"], report["overall"])))
    if report.get("robustness"):
        drawn.append(("robustness", "Robustness", figures.robustness_figure(report["robustness"],
                                                                            report["overall"]["weighted_f1"])))
    images = []
    for stem, caption, fig in drawn:
        written += save_figure(fig, os.path.join(out_dir, stem))
        images.append((stem, caption))
    tables = report_tables(report)
    notes = (report.get("robustness") or {}).get("notes", [])
    meta = report["meta"]
    intro = (f"{meta['model']} on {meta.get('data', 'the evaluated split')}: modalities "
             f"{', '.join(meta['modalities'])}; intervals from {meta['bootstrap']} bootstrap resamples of the "
             f"dialogues (seed {meta['seed']}).")
    md = [f"# {title}", "", intro, ""]
    for caption, header, rows in tables:
        md += [f"## {caption}", "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        md += ["| " + " | ".join(r) + " |" for r in rows] + [""]
    md += [f"- {n}" for n in notes] + ([""] if notes else [])
    md += [f"![{caption}]({stem}.png)\n" for stem, caption in images]
    written.append(os.path.join(out_dir, "report.md"))
    atomic_write(written[-1], lambda f: f.write("\n".join(md).encode()))
    written.append(os.path.join(out_dir, "report.html"))
    atomic_write(written[-1], lambda f: f.write(_html(title, intro, tables, notes, images, out_dir).encode()))
    return written


def _html(title: str, intro: str, tables, notes: Sequence[str], images, out_dir: str) -> str:
    e = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
             "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
             "text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}"
             f"</style></head><body><h1>{e(title)}</h1><p>{e(intro)}</p>"]
    for caption, header, rows in tables:
        parts.append(f"<h2>{e(caption)}</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows]
        parts.append("</table>")
    parts += [f"<p><em>{e(n)}</em></p>" for n in notes]
    for stem, caption in images:
        with open(os.path.join(out_dir, f"{stem}.png"), "rb") as f:
            data = base64.b64encode(f.read()).decode()
        parts.append(f"<h2>{e(caption)}</h2><img alt='{e(caption)}' src='data:image/png;base64,{data}'>")
    return "".join(parts) + "</body></html>"
