"""The ``dialoggraph`` command line (also ``python -m dialoggraph.train`` and, for DDP,
``torchrun --nproc_per_node=N -m dialoggraph.train train ...``).

Commands: ``train``, ``evaluate``, ``predict``, ``models``, ``inspect``. A user
error is one line on stderr and exit code 2 (``--debug`` shows the traceback).
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import sys
from typing import Any, Sequence

from torch_geometric.transforms import Compose

from dialoggraph.data.dialogue import NODE
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.datasets.io import atomic_write, atomic_write_json
from dialoggraph.graphs.relation import Relation
import dialoggraph.models  # noqa: F401  (registers every model)
from dialoggraph.models.registry import MODELS, get_model_class
from dialoggraph.train import distributed
from dialoggraph.train.checkpoint import CheckpointError
from dialoggraph.train.engine import (TrainConfig, Trainer, check_compatible, evaluate, model_from_checkpoint,
                                      predict, required_transform)
from dialoggraph.train.metrics import summarize_seeds
from dialoggraph.transforms import DAG, INTER, INTRA, DAGGraph, SpeakerWindowGraph

DATASETS = ("synthetic", "meld", "folder", "pickle")
RELATION_MARK = {Relation.SELF: "o", Relation.INTRA_PAST: "s", Relation.INTRA_FUTURE: "S",
                 Relation.INTER_PAST: "c", Relation.INTER_FUTURE: "C"}


class CLIError(Exception):
    """A user error the CLI reports in one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


# -- datasets ------------------------------------------------------------------
def add_dataset_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="synthetic", choices=DATASETS)
    p.add_argument("--root", help="data folder (meld, folder) or feature file / folder (pickle)")
    p.add_argument("--layout", choices=["mmgcn", "multiemo", "dagerc"], help="pickle layout")
    p.add_argument("--labels", help="pickle label names: iemocap, meld or a comma-separated list")
    p.add_argument("--text-features", default="tfidf",
                   help="meld: tfidf, sentence-transformers or a row-aligned .npy pattern with {split}")
    p.add_argument("--num-dialogues", type=int, default=400, help="synthetic: train dialogues (dev/test: a quarter)")
    p.add_argument("--data-seed", type=int, default=0, help="synthetic: the task seed")
    p.add_argument("--cache-dir", help="where processed datasets are cached (default: ROOT/processed)")


def load_dataset(args: argparse.Namespace, split: str, pre_transform):
    """One split of the dataset named on the command line."""
    from dialoggraph.datasets import (IEMOCAP_LABELS, MELD, MELD_LABELS, DialogueFolder, FeaturePickle,
                                      SyntheticDialogues)
    if args.dataset == "synthetic":
        n = args.num_dialogues if split == "train" else max(1, args.num_dialogues // 4)
        return SyntheticDialogues(n, split, seed=args.data_seed, pre_transform=pre_transform)
    if args.root is None:
        raise CLIError(f"--root is required for --dataset {args.dataset}")
    if not os.path.exists(args.root):
        raise CLIError(f"{args.root}: no such file or folder")
    cache = os.path.join(args.cache_dir, args.dataset) if args.cache_dir else None
    if args.dataset == "meld":
        return MELD(args.root, split, text_features=args.text_features, pre_transform=pre_transform,
                    cache_dir=cache)
    if args.dataset == "folder":
        return DialogueFolder(args.root, split, pre_transform=pre_transform, cache_dir=cache)
    if args.layout is None:
        raise CLIError("--layout (mmgcn, multiemo or dagerc) is required for --dataset pickle")
    labels = {"iemocap": IEMOCAP_LABELS, "meld": MELD_LABELS}.get(args.labels or "",
                                                                  args.labels.split(",") if args.labels else None)
    return FeaturePickle(args.root, args.layout, split, label_names=labels, pre_transform=pre_transform,
                         cache_dir=cache)


# -- model hyper-parameters as options -------------------------------------------
def add_config_arguments(p: argparse.ArgumentParser, config_cls: type) -> None:
    group = p.add_argument_group(f"{config_cls.__name__} (the model's hyper-parameters; defaults from its paper)")
    for field in dataclasses.fields(config_cls):
        flag = "--" + field.name.replace("_", "-")
        if field.name == "modalities":
            group.add_argument(flag, help=f"comma-separated (default: {','.join(field.default)} "
                                          f"present in the data)")
        elif isinstance(field.default, tuple):
            group.add_argument(flag, type=lambda text: tuple(v.strip() for v in text.split(",") if v.strip()
                                                             and v.strip() != "none"),
                               default=field.default, help=f"comma-separated, 'none' for empty "
                                                           f"(default: {','.join(field.default)})")
        elif isinstance(field.default, bool):
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=field.default)
        else:
            group.add_argument(flag, type=type(field.default), default=field.default,
                               help=f"default {field.default}")


def config_from_args(args: argparse.Namespace, config_cls: type, available: Sequence[str] | None) -> Any:
    """The model config from the options; ``available=None`` skips the modality check."""
    values = {}
    for field in dataclasses.fields(config_cls):
        if field.name == "modalities" and available is None:
            values["modalities"] = field.default
        elif field.name == "modalities":
            if args.modalities:
                values["modalities"] = tuple(m.strip() for m in args.modalities.split(",") if m.strip())
                unknown = [m for m in values["modalities"] if m not in available]
                if unknown or not values["modalities"]:
                    raise CLIError(f"--modalities {args.modalities}: the data has {', '.join(available)}")
            else:
                values["modalities"] = tuple(m for m in field.default if m in available)
                if not values["modalities"]:
                    raise CLIError(f"none of the model's modalities ({', '.join(field.default)}) is in the "
                                   f"data ({', '.join(available)}); pass --modalities")
        else:
            values[field.name] = getattr(args, field.name)
    return config_cls(**values)


# -- commands --------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> None:
    cls = get_model_class(args.model)
    # The graphs a model needs never depend on its modalities, so the data can be
    # loaded (and its graphs built once) before the modalities are checked against it.
    pre = required_transform(args.model, config_from_args(args, cls.Config, None))
    train, val, test = (load_dataset(args, split, pre) for split in ("train", "dev", "test"))
    config = config_from_args(args, cls.Config, list(train.modalities))
    seeds = args.seeds if args.seeds else [args.seed]
    results = []
    for seed in seeds:
        out_dir = os.path.join(args.out, f"seed{seed}") if args.out and len(seeds) > 1 else args.out
        trainer = Trainer(args.model, config, train.meta["feature_dims"], train.label_names,
                          TrainConfig(epochs=args.epochs, batch_size=args.batch_size, grad_clip=args.grad_clip,
                                      patience=args.patience, scheduler=args.scheduler, seed=seed,
                                      deterministic=args.deterministic, device=args.device, quiet=args.quiet),
                          out_dir)
        if args.resume:
            trainer.resume(args.resume)
        results.append(trainer.fit(train, val, test))
    if not distributed.is_main():
        return
    print_results(results, train.label_names)
    if len(results) > 1:
        summary = {"model": args.model, "seeds": seeds,
                   "test": summarize_seeds([r["test"] for r in results]),
                   "val": summarize_seeds([r["val"] for r in results])}
        if args.out:
            atomic_write_json(os.path.join(args.out, "summary.json"), summary)
        print(f"\n{len(seeds)} seeds, test: " + "  ".join(
            f"{k} {v['mean'] * 100:.2f} +- {v['std'] * 100:.2f}" for k, v in summary["test"].items()))


def print_results(results: list[dict], label_names: Sequence[str]) -> None:
    print(f"{'seed':>5} {'best epoch':>10} {'val wF1':>8} {'test acc':>9} {'test wF1':>9} {'test mF1':>9}")
    for r in results:
        t = r["test"]
        print(f"{r['seed']:>5} {r['best_epoch']:>10} {r['val']['weighted_f1'] * 100:8.2f} "
              f"{t['accuracy'] * 100:9.2f} {t['weighted_f1'] * 100:9.2f} {t['macro_f1'] * 100:9.2f}")
    last = results[-1]["test"]["per_class_f1"]
    print("test F1 per class (last seed): " + ", ".join(f"{name} {last[name] * 100:.1f}" for name in label_names))


def _checkpoint_and_data(args: argparse.Namespace):
    model, state = model_from_checkpoint(args.checkpoint, args.device)
    config = model.config
    dataset = load_dataset(args, args.split, required_transform(state["model"], config))
    check_compatible(state, None, dataset.label_names, args.checkpoint)
    missing = [m for m in config.modalities if m not in dataset.modalities]
    if missing:
        raise CLIError(f"{args.checkpoint}: the model reads {', '.join(missing)}, which the data lacks")
    return model, state, dataset


def cmd_evaluate(args: argparse.Namespace) -> None:
    model, state, dataset = _checkpoint_and_data(args)
    metrics = evaluate(model, dataset, state["label_names"], device=args.device)
    if args.out:
        atomic_write_json(args.out, {args.split: metrics})
    print(json.dumps({args.split: metrics}, indent=1))


def cmd_predict(args: argparse.Namespace) -> None:
    model, state, dataset = _checkpoint_and_data(args)
    out = predict(model, dataset, device=args.device)
    names = state["label_names"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["dialogue", "utterance", "speaker", "label", "predicted"] + [f"p_{n}" for n in names])
    row = 0
    for dialogue, speakers in zip(out["dialogues"], out["speakers"]):
        for index, speaker in enumerate(speakers):
            y = int(out["y"][row])
            probs = out["probs"][row]
            writer.writerow([dialogue, index, speaker, names[y] if y >= 0 else "", names[int(probs.argmax())]]
                            + [f"{p:.6f}" for p in probs])
            row += 1
    atomic_write(args.out, lambda f: f.write(text.getvalue().encode()))
    print(f"wrote {row} predictions to {args.out}")


def cmd_models(args: argparse.Namespace) -> None:
    for name in sorted(MODELS):
        doc = (MODELS[name].__doc__ or "").strip().splitlines()[0]
        print(f"{name:12} {MODELS[name].__name__:14} {doc}")


def relation_matrix(data) -> list[str]:
    """Rows of marks: row i, column j shows the relation of edge j -> i (intra/inter stores)."""
    n = data[NODE].num_nodes
    grid = [["." for _ in range(n)] for _ in range(n)]
    for store in (INTRA, INTER):
        src, dst = data[store].edge_index.tolist()
        for j, i, r in zip(src, dst, data[store].edge_rel.tolist()):
            grid[i][j] = RELATION_MARK[Relation(r)]
    return ["".join(row) for row in grid]


def cmd_inspect(args: argparse.Namespace) -> None:
    pre = Compose([SpeakerWindowGraph(args.past, args.future), DAGGraph(args.dag_window)])
    if args.dataset == "synthetic":
        args.num_dialogues = max(args.num, 1)
    dataset = load_dataset(args, args.split, pre)
    print(f"{dataset!r}: labels {', '.join(dataset.label_names)}; modalities {', '.join(dataset.modalities)}")
    print("marks: o self, s/S intra-speaker past/future, c/C inter-speaker past/future "
          "(row = target, column = source)")
    for data in list(dataset)[:args.num]:
        store = data[NODE]
        n = store.num_nodes
        print(f"\ndialogue {data.dialogue_id}: {n} utterances, speakers {', '.join(data.speaker_names)}; "
              f"edges: intra {data[INTRA].num_edges}, inter {data[INTER].num_edges}, dag {data[DAG].num_edges}")
        labels = [dataset.label_names[y] if y >= 0 else "-" for y in store.y.tolist()]
        rows = relation_matrix(data) if n <= args.max_matrix else [""] * n
        for i in range(n):
            preds = data[DAG].edge_index[0][data[DAG].edge_index[1] == i].tolist()
            print(f"  {i:3d} {data.speaker_names[int(store.speaker[i])][:12]:>12} "
                  f"{labels[i]:>9}  {rows[i]}  dag<-{preds}")


# -- parser -----------------------------------------------------------------------
def build_parser(model: str | None = None) -> argparse.ArgumentParser:
    parser = Parser(prog="dialoggraph", description=__doc__.split("\n")[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("train", help="train a model (several seeds: mean +- std)")
    p.add_argument("--model", default="amb_dsgdn", help=f"one of: {', '.join(sorted(MODELS))}")
    add_dataset_arguments(p)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--grad-clip", type=float, default=5.0)
    p.add_argument("--patience", type=int, default=10, help="early stopping on validation weighted F1")
    p.add_argument("--scheduler", choices=["none", "cosine"], default="none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, nargs="+", help="several seeds; reports mean +- std")
    p.add_argument("--deterministic", action="store_true")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", help="folder for checkpoints, log.jsonl and metrics.json")
    p.add_argument("--resume", help="continue from a checkpoint (last.pt)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")
    add_config_arguments(p, get_model_class(model).Config if model in MODELS else MODELS["amb_dsgdn"].Config)
    p.set_defaults(func=cmd_train)

    for name, func, what in (("evaluate", cmd_evaluate, "metrics of a checkpoint on a split"),
                             ("predict", cmd_predict, "per-utterance predictions to a CSV")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--checkpoint", required=True)
        add_dataset_arguments(p)
        p.add_argument("--split", default="test", choices=["train", "dev", "test"])
        p.add_argument("--device", default="cpu")
        p.add_argument("--out", required=name == "predict", help="output file")
        p.set_defaults(func=func)

    p = sub.add_parser("models", help="list the registered models")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("inspect", help="build and print the dialogue graphs of a dataset")
    add_dataset_arguments(p)
    p.add_argument("--split", default="train", choices=["train", "dev", "test"])
    p.add_argument("--num", type=int, default=2, help="how many dialogues to print")
    p.add_argument("--past", type=int, default=5)
    p.add_argument("--future", type=int, default=5)
    p.add_argument("--dag-window", type=int, default=1)
    p.add_argument("--max-matrix", type=int, default=40, help="print the relation matrix up to this length")
    p.set_defaults(func=cmd_inspect)
    return parser


def _model_name(argv: Sequence[str]) -> str | None:
    """The --model value, looked up before the full parse (its options depend on it)."""
    for i, arg in enumerate(argv):
        if arg == "--model" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--model="):
            return arg.split("=", 1)[1]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    model = _model_name(argv)
    parser = build_parser(model)
    args = parser.parse_args(argv)
    if getattr(args, "model", None) is not None and args.model not in MODELS:
        parser.error(f"unknown model {args.model!r}; available: {', '.join(sorted(MODELS))}")
    try:
        args.func(args)
    except (CLIError, DialogueValidationError, CheckpointError, FileNotFoundError, ValueError,
            FloatingPointError) as exc:
        if args.debug:
            raise
        print(f"dialoggraph: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dialoggraph: interrupted", file=sys.stderr)
        return 130
    finally:
        distributed.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
