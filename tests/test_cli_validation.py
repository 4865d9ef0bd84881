"""Bad command lines: every one ends with one clean line on stderr and the right exit code, no traceback, before
any work starts, and leaves no file behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from resnet_core.cli import main

REPO = Path(__file__).resolve().parent.parent

# (argv, regex expected in stderr). Exit code 2 for all: argparse-level errors, checked before any work.
BAD = [
    # train
    ("train --epochs 0", "--epochs: must be a positive"),
    ("train --epochs -1", "--epochs"),
    ("train --epochs x", "whole number"),
    ("train --batch-size 0", "--batch-size: must be at least 2"),
    ("train --batch-size -5", "--batch-size"),
    ("train --batch-size 1", "--batch-size"),
    ("train --width 0", "--width"),
    ("train --depth 9", "6n\\+2"),
    ("train --depth 0", "--depth"),
    ("train --depth 2", "--depth"),
    ("train --lr nan", "finite"),
    ("train --lr inf", "finite"),
    ("train --lr -1", "greater than 0"),
    ("train --lr 0", "greater than 0"),
    ("train --weight-decay -1", "0 or more"),
    ("train --weight-decay nan", "finite"),
    ("train --train-size 5", "less than one image per class"),
    ("train --train-size 0", "--train-size"),
    ("train --train-size 1000000", "10,000 training images"),
    ("train --max-steps 0", "--max-steps"),
    ("train --seed -1", "--seed"),
    ("train --json {tmp}", "is a directory"),
    ("train --json /proc/nope/x.json", "--json"),
    ("train --json {file}/x.json", "not a folder"),
    ("train --out {tmp}", "is a directory"),
    ("train --out /proc/x.pt", "--out"),
    ("train --dataset nope", "invalid choice"),
    # gradients / degradation
    ("gradients --depths 8,9", "6n\\+2"),
    ("gradients --depths 0", "--depths"),
    ("gradients --depths ,", "at least one"),
    ("gradients --steps -1", "--steps"),
    ("gradients --probes 0", "--probes"),
    ("gradients --batch-size 0", "--batch-size"),
    ("gradients --width 0", "--width"),
    ("degradation --lr nan", "finite"),
    ("degradation --epochs 0", "--epochs"),
    ("degradation --train-size 5", "one image per class"),
    ("degradation --test-size -5", "--test-size"),
    ("degradation --test-size 5", "one image per class"),
    ("degradation --test-size 4000", "3,000 test images"),
    ("degradation --depths 7", "6n\\+2"),
    ("degradation --json {tmp}", "is a directory"),
    # ablation
    ("ablation --trials 0", "--trials"),
    ("ablation --trials -1", "--trials"),
    ("ablation --ks 0", "--ks"),
    ("ablation --ks 1000", "27 blocks"),
    ("ablation --ks -1", "--ks"),
    ("ablation --ks a", "whole number"),
    ("ablation --ks 1,1", "twice"),
    ("ablation --test-size -5", "--test-size"),
    ("ablation --test-size 100000", "3,000 test images"),
    ("ablation --swaps 0", "--swaps"),
    ("ablation --swaps 20", "at most 13"),
    ("ablation --depth 9", "6n\\+2"),
    # transfer / pretrain-source
    ("transfer --shots 100000", "950 training images per class"),
    ("transfer --shots 0", "--shots"),
    ("transfer --shots -1", "--shots"),
    ("transfer --shots x", "--shots"),
    ("transfer --lr-head nan", "finite"),
    ("transfer --lr-backbone inf", "finite"),
    ("transfer --lr-scratch 0", "greater than 0"),
    ("transfer --dropout 1", "less than 1"),
    ("transfer --dropout -0.1", "--dropout"),
    ("transfer --val-per-class 0", "--val-per-class"),
    ("transfer --val-per-class 1000", "at most 999"),
    ("transfer --epochs 0", "--epochs"),
    ("transfer --seeds -1", "--seeds"),
    ("transfer --seeds a", "--seeds"),
    ("transfer --test-per-class 0", "--test-per-class"),
    ("transfer --test-per-class 5000", "300 test images"),
    ("transfer --patience 0", "--patience"),
    ("transfer --image-size 0", "--image-size"),
    ("transfer --checkpoint /nonexistent.pt", "not an existing file"),
    ("transfer --batch-size 0", "--batch-size"),
    ("transfer --min-epoch-images 0", "--min-epoch-images"),
    ("transfer --staged-head-epochs 0", "--staged"),
    ("transfer --json {tmp}", "is a directory"),
    ("pretrain-source --per-class 0", "--per-class"),
    ("pretrain-source --depth 5", "6n\\+2"),
    ("pretrain-source --out {tmp}", "is a directory"),
    # bench
    ("bench --repeats 0", "--repeats"),
    ("bench --steps 0", "--steps"),
    ("bench --threads 0", "--threads"),
    ("bench --model resnet9", "6n\\+2"),
    ("bench --model vgg16", "resnetD"),
    ("bench --batch-size 0", "--batch-size"),
    ("bench --warmup -1", "--warmup"),
    ("bench --workers -1", "--workers"),
    ("bench --feature-images 0", "--feature"),
    ("bench --head-epochs 0", "--head-epochs"),
    ("bench --json {tmp}", "is a directory"),
]


@pytest.fixture
def places(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    file = tmp_path / "a_file"
    file.write_text("x")
    return folder, file


@pytest.mark.parametrize("argv, expected", BAD, ids=[b[0] for b in BAD])
def test_bad_value_is_one_clean_line_and_exit_2(argv, expected, places, capsys):
    folder, file = places
    args = argv.format(tmp=folder, file=file).split()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert pytest.importorskip("re").search(expected, err), err
    assert list(folder.iterdir()) == [], "nothing may be written"


def test_runtime_and_os_errors_in_a_command_are_one_line_exit_2(monkeypatch, capsys):
    import resnet_core.cli as cli

    def boom(args):
        raise RuntimeError("CUDA out of memory.\nTried to allocate 2 GiB")

    monkeypatch.setattr(cli, "cmd_info", boom)
    assert main(["info"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CUDA out of memory" in err


def test_json_write_failure_leaves_no_tmp_file(tmp_path):
    from resnet_core.provenance import write_json

    target = tmp_path / "r.json"
    with pytest.raises(TypeError):
        write_json(target, {"bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_diverged_run_exits_3(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(
        [
            "train",
            "--depth",
            "8",
            "--epochs",
            "1",
            "--max-steps",
            "6",
            "--train-size",
            "200",
            "--lr",
            "1e8",
            "--device",
            "cpu",
            "--no-epoch-eval",
            "--json",
            str(out),
        ]
    )
    assert code == 3
    assert "diverged" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv", [["train", "--epochs", "0"], ["transfer", "--lr-head", "nan"], ["download", "fashion"]]
)
def test_real_invocation_has_no_traceback(argv):
    """Offline, `download` says so in one line; parse errors stop before importing torch work."""
    proc = subprocess.run(
        [sys.executable, "-m", "resnet_core", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "OMP_NUM_THREADS": "1",
            "PATH": "/usr/bin:/bin",
            "NO_PROXY": "*",
            "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9",
        },
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
