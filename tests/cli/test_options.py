"""The command line is generated from the typed configs: every field of every config can be set
from a flag and from a run file, with its docstring as help; runs repeat from their config.yaml."""
import dataclasses
import json
import textwrap
import typing

import pytest
import yaml

from dialoggraph.cli import build_parser, main
from dialoggraph.cli.options import file_values, given
from dialoggraph.config import field_docs, field_hints, from_dict, split_optional
from dialoggraph.datasets import DatasetConfig
from dialoggraph.models import MODELS
from dialoggraph.train.trainer import TrainConfig

TINY = ["--num-dialogues", "16", "--epochs", "2", "--batch-size", "8", "--quiet"]
SPECIAL = {"dataset": "iemocap", "dominant": "audio", "modalities": ("text", "audio"), "root": "data/x",
           "device": "cuda:1", "text_features": "sbert:all-MiniLM-L6-v2", "labels": "iemocap",
           "cache_dir": "cache", "raw_root": "data/raw", "audio": "egemaps", "visual": "hog", "Cs": (0.5, 2.0),
           "monitor": "macro_f1"}


def other_value(name, hint, default):
    """A valid value of the field's type that differs from its default."""
    if name in SPECIAL:
        return SPECIAL[name]
    optional, base = split_optional(hint)
    origin = typing.get_origin(base)
    if origin is typing.Literal:
        return next(c for c in typing.get_args(base) if c != default)
    if origin is tuple:
        return typing.get_args(typing.get_args(base)[0])[:1]
    if base is bool:
        return not default
    if base is int:
        return default + 1
    if base is float:
        return default / 2 if default else 0.125
    raise AssertionError(f"no test value for {name}: {hint}")


def as_text(value):
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


CASES = [(name, cls.Config, "model") for name, cls in sorted(MODELS.items())] + \
    [("mlp", TrainConfig, "train"), ("mlp", DatasetConfig, "data")]


@pytest.mark.parametrize("model,config_cls,section", CASES, ids=[f"{m}-{c.__name__}" for m, c, _ in CASES])
def test_every_field_is_settable_from_a_flag_and_from_a_file(model, config_cls, section, tmp_path):
    parser = build_parser(["train", "--model", model])
    base = {"dataset": "meld", "root": "data/x", "raw_root": "data/raw"} if config_cls is DatasetConfig else {}
    for f in dataclasses.fields(config_cls):
        hint = field_hints(config_cls)[f.name]
        value = other_value(f.name, hint, f.default)
        flag = "--" + f.name.replace("_", "-")
        argv = ["train", "--model", model] + \
            ([flag if value else "--no-" + flag[2:]] if hint is bool else [flag, as_text(value)])
        parsed = given(parser.parse_args(argv), section)
        assert parsed == {f.name: value}, (f.name, parsed)
        from_flag = from_dict(config_cls, {**base, **parsed})
        # the same value from a YAML run file (numbers written as text too: YAML reads 5e-5 as a string)
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump({f.name: list(value) if isinstance(value, tuple) else value}))
        from_file = from_dict(config_cls, {**base, **file_values(config_cls, yaml.safe_load(path.read_text()))})
        assert getattr(from_flag, f.name) == getattr(from_file, f.name) == value
    optional = [f.name for f in dataclasses.fields(config_cls) if split_optional(field_hints(config_cls)[f.name])[0]]
    for name in optional:          # an Optional field takes "none"
        flag = "--" + name.replace("_", "-")
        assert given(parser.parse_args(["train", "--model", model, flag, "none"]), section) == {name: None}


def test_each_options_help_is_its_fields_documentation(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--model", "lfvd", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for config_cls in (MODELS["lfvd"].Config, TrainConfig, DatasetConfig):
        for name, doc in field_docs(config_cls).items():
            assert " ".join(doc.split())[:40] in text, name
    assert "--fusion {vd,add,concat}" in text and "--lr FLOAT|none" in text and "--no-use-lfa" in text


def test_bad_values_fail_in_one_line_before_any_data_is_read(capsys):
    cases = [(["train", "--model", "amb_dsgdn", "--graph-layer", "gcm"], "argument --graph-layer"),
             (["train", "--model", "lfvd", "--dominant", "smell", "--dataset", "meld", "--root", "/nowhere"],
              "LFVDConfig: the dominant modality 'smell'"),
             (["train", "--model", "mfcre", "--mu1", "0.8", "--dataset", "folder", "--root", "/nowhere"],
              "mu1 + mu2 < 1"),
             (["train", "--model", "mdget_mer", "--gates", "gue,door"], "'door' is not one of"),
             (["train", "--model", "amb_dsgdn", "--preset", "dailydialog"], "no preset 'dailydialog'")]
    for argv, message in cases:
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and message in err, (argv, err)


def test_a_run_file_with_flags_over_it_and_the_resolved_config_repeats_the_run(tmp_path, capsys):
    run = tmp_path / "run.yaml"
    run.write_text(textwrap.dedent("""
        model: amb_dsgdn
        seeds: [3]
        data: {num_dialogues: 16}
        model_config: {hidden: 16, graph_heads: 2, heads: 2, modalities: [text, audio], window: 2}
        train: {epochs: 2, batch_size: 8, lr: 1e-3, quiet: true}
    """))
    first = tmp_path / "first"
    assert main(["train", "--config", str(run), "--window", "3", "--out", str(first)]) == 0
    resolved = yaml.safe_load((first / "config.yaml").read_text())
    assert resolved["model"] == "amb_dsgdn" and resolved["seeds"] == [3]
    assert resolved["model_config"]["window"] == 3 and resolved["model_config"]["hidden"] == 16   # flag > file
    assert resolved["train"]["lr"] == 1e-3 and resolved["train"]["weight_decay"] == 5e-5     # model's default
    assert resolved["data"]["num_dialogues"] == 16 and "out" not in resolved
    again = tmp_path / "again"
    assert main(["train", "--config", str(first / "config.yaml"), "--out", str(again)]) == 0
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (first, again))
    assert a["test"] == b["test"] and a["best_epoch"] == b["best_epoch"]
    json_run = tmp_path / "run.json"
    json_run.write_text(json.dumps({"model": "mlp", "train": {"epochs": 1, "quiet": True},
                                    "data": {"num_dialogues": 8}}))
    assert main(["train", "--config", str(json_run)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: mlp\nmodel_config: {hidden: 8, depth: 3}\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "bad.yaml: BaselineConfig has no field 'depth'" in capsys.readouterr().err
    for text, message in (("modle: mlp\n", "unknown key(s) modle"),
                          ("seeds: 3\n", "seeds must be a list of integers, got 3"),
                          ("model: [mlp]\n", "model must be a string"),
                          ("seeds: [1, 1]\n", "repeat a seed")):
        bad.write_text(text)
        assert main(["train", "--config", str(bad)]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def test_a_preset_sets_the_papers_model_and_training_schedule(tmp_path):
    out = tmp_path / "meld"
    assert main(["train", "--model", "amb_dsgdn", "--preset", "meld", "--hidden", "16", "--graph-heads", "2",
                 "--heads", "2", "--modalities", "text", "--batch-size", "8", "--out", str(out), *TINY]) == 0
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["model_config"]["window"] == 6 and resolved["model_config"]["dropout"] == 0.11
    assert resolved["train"]["lr"] == 5e-5 and resolved["train"]["weight_decay"] == 7.5e-5
    assert resolved["train"]["epochs"] == 2 and resolved["train"]["batch_size"] == 8      # flags > preset


def test_a_model_outside_the_package_trains_by_import_path(tmp_path, monkeypatch, capsys):
    package = tmp_path / "my_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "module.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass

        import torch

        from dialoggraph.data import NODE
        from dialoggraph.models import DialogueModel, ModelConfig, ModelOutput


        @dataclass
        class MyConfig(ModelConfig):
            hidden: int = 8
            """Hidden width of my model."""
            modalities: tuple[str, ...] = ("text",)
            """What it reads."""


        class MyModel(DialogueModel):
            """A linear model on text."""

            Config = MyConfig

            def __init__(self, in_dims, num_classes, config=None):
                super().__init__(in_dims, num_classes, config)
                self.net = torch.nn.Sequential(torch.nn.Linear(in_dims["text"], self.config.hidden),
                                               torch.nn.ReLU(), torch.nn.Linear(self.config.hidden, num_classes))

            def forward(self, batch):
                return ModelOutput(self.net(batch[NODE].x_text))
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "run"
    with pytest.raises(SystemExit):
        main(["train", "--model", "my_pkg.module:MyModel", "--help"])
    assert "Hidden width of my model." in capsys.readouterr().out
    assert main(["train", "--model", "my_pkg.module:MyModel", "--hidden", "12", "--out", str(out), *TINY]) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["model"] == "my_pkg.module:MyModel"
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(out / "best.pt")]) == 0     # data from the run's config.yaml
    assert json.loads(capsys.readouterr().out)["test"]["num_utterances"] > 0


def test_an_internal_error_keeps_its_traceback(monkeypatch):
    import dialoggraph.cli.models as command

    def broken(args):
        raise KeyError("a bug")
    monkeypatch.setattr(command, "run", broken)
    with pytest.raises(KeyError, match="a bug"):
        main(["models"])


def test_every_option_of_every_command_has_help_and_its_default():
    import argparse
    from dialoggraph.cli.parser import COMMANDS
    for name in COMMANDS:
        parser = build_parser([name, "--model", "mlp"] if name in ("train", "tune") else [name])
        command = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        text = " ".join(command.format_help().split())
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, (name, action.option_strings or action.dest)
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
                assert "default" in command._get_formatter()._get_help_string(action), (name, action.option_strings)
        assert "(default: " in text or len(command._actions) == 1, name      # models has no option
