"""Transfer verdicts on constructed numbers (tie / winner / no verdict), standard errors, texts derived from the
config, class splits drawn by a seed, and the package's shape (small modules, no CLI imports)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from resnet_core import transfer as tr
from resnet_core.transfer import report
from resnet_core.transfer.result import (
    RunResult,
    TransferResult,
    binomial_se,
    comparison_path,
    load_result,
    mean_interval,
    paired_differences,
)


def run(strategy: str, seed: int, acc: float, shots: int = 20) -> RunResult:
    return RunResult(
        strategy=strategy,
        seed=seed,
        shots=shots,
        best_val_acc=acc,
        final_val_acc=acc,
        test_acc=acc,
        train_seconds=1.0,
        trainable_params=10,
        history=[],
        test_images=1200,
    )


def result(accs: dict[str, list[float]], status: str = "done") -> TransferResult:
    runs = [run(s, seed, a) for s, values in accs.items() for seed, a in enumerate(values)]
    return TransferResult(config=tr.TransferConfig(strategies=list(accs)).to_dict(), results=runs, status=status)


def pair(res: TransferResult, a: str, b: str) -> dict:
    return next(d for d in paired_differences(res.results) if d["a"] == a and d["b"] == b)


FE = [0.85, 0.86, 0.84, 0.86, 0.85]


def test_tie_when_the_interval_includes_zero():
    # staged - full: +0.1, -0.2, +0.3, 0.0, -0.1 points: mean ~0, interval across 0 -> tie, whatever the means say
    res = result({"full_finetune": [0.870, 0.872, 0.868, 0.871, 0.869], "staged": [0.871, 0.870, 0.871, 0.871, 0.868]})
    d = pair(res, "staged", "full_finetune")
    assert d["low"] < 0 < d["high"]
    assert report.pair_verdict(d)["verdict"] == "tie"
    call = report.overall_verdict(res, 20)
    assert call["verdict"] == "tie" and {call["best"], *call["tied"]} == {"full_finetune", "staged"}
    assert "no single winner" in report.describe_comparison(res) and "wins" not in report.describe_comparison(res)


def test_winner_only_when_every_interval_excludes_zero():
    res = result(
        {
            "scratch": [0.80, 0.79, 0.81, 0.80, 0.78],
            "feature_extraction": FE,
            "full_finetune": [a + 0.013 + 0.002 * (i % 2) for i, a in enumerate(FE)],
        }
    )
    d = pair(res, "feature_extraction", "scratch")
    assert d["low"] > 0 and report.pair_verdict(d)["verdict"] == "a"
    assert report.pair_verdict(pair(res, "full_finetune", "feature_extraction"))["verdict"] == "a"
    call = report.overall_verdict(res, 20)
    assert call["verdict"] == "winner" and call["best"] == "full_finetune"
    assert set(call["beaten"]) == {"scratch", "feature_extraction"}
    # a worse strategy: the interval below 0 names b
    worse = result({"feature_extraction": FE, "feature_extraction_bn_train": [a - 0.02 for a in FE]})
    d = pair(worse, "feature_extraction_bn_train", "feature_extraction")
    assert d["high"] < 0 and report.pair_verdict(d)["verdict"] == "b"


def test_one_seed_or_partial_run_gives_no_verdict():
    one = result({"scratch": [0.80], "feature_extraction": [0.90]})
    assert report.pair_verdict(pair(one, "feature_extraction", "scratch"))["verdict"] is None
    assert report.overall_verdict(one, 20)["verdict"] is None
    assert "wins" not in report.describe_comparison(one)
    for status in ("cancelled", "running"):
        partial = result({"scratch": [0.70, 0.71, 0.72], "feature_extraction": [0.90, 0.91, 0.92]}, status=status)
        call = report.overall_verdict(partial, 20)
        assert call["verdict"] is None and "partial" in call["reason"]
        assert all(p["verdict"] is None for p in report.verdicts(partial)["pairs"])
        text = report.describe_comparison(partial)
        assert "wins" not in text and "better" not in text and "tie" not in text
        assert "wins" not in report.describe_sweep(partial)


def test_interval_and_standard_error_numbers():
    stats = mean_interval([0.01, 0.02, 0.03])
    assert stats["mean"] == pytest.approx(0.02) and stats["sd"] == pytest.approx(0.01)
    assert stats["high"] - stats["mean"] == pytest.approx(4.303 * 0.01 / 3**0.5, rel=1e-3)  # t(0.975, df=2)
    assert mean_interval([0.5])["low"] is None
    assert binomial_se(0.5, 100) == pytest.approx(0.05) and binomial_se(0.9, 1200) == pytest.approx(0.00866, rel=1e-3)
    r = run("scratch", 0, 0.9)
    assert r.to_dict()["test_se"] == pytest.approx(0.00866, rel=1e-3)
    old = RunResult.from_dict({**r.to_dict(), "test_images": 0, "confusion": [[50, 0], [0, 50]]})
    assert old.test_se == pytest.approx(binomial_se(0.9, 100)), "files without test_images: n from the confusion"
    assert report.acc_se(0.861, 0.0099) == "86.1% ± 1.0"


def test_texts_follow_the_config():
    assert report.lr_ratio_text(0.05, 0.001) == "50× slower"
    assert report.lr_ratio_text(0.05, 0.005) == "10× slower"
    assert report.lr_ratio_text(0.01, 0.01) == "as fast as the head"
    notes = report.config_notes(tr.TransferConfig())
    assert "50× slower" in notes[0] and "8 augmented views" in notes[1] and "every strategy" in notes[1]
    assert "off for all" in report.config_notes(tr.TransferConfig(augment=False))[1]


def test_split_drawing_is_seeded_and_a_partition():
    assert tr.draw_split(None) == (tr.SOURCE_CLASSES, tr.TARGET_CLASSES)
    seen = set()
    for seed in range(20):
        source, target = tr.draw_split(seed)
        assert tr.draw_split(seed) == (source, target), "deterministic per seed"
        assert len(source) == 6 and len(target) == 4 and sorted(source + target) == list(range(10))
        seen.add(tuple(target))
    assert len(seen) > 10, "different seeds draw different splits"
    assert tr.source_name(None) == tr.SOURCE_NAME and tr.source_name(2).endswith("_split2")
    assert "after comparing transfer gains" in tr.describe_split(None)
    assert "drawn at random" in tr.describe_split(1)


PACKAGE = Path(tr.__file__).parent


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_package_modules_are_small_and_never_import_the_cli(path):
    text = path.read_text()
    assert len(text.splitlines()) < 400, f"{path.name} has grown past 400 lines: split it"
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not {m for m in imported if m.startswith(("resnet_core.cli", "resnet_core.commands"))}


def test_a_one_seed_live_run_is_placed_against_the_shipped_seeds():
    shipped = load_result(comparison_path(None))
    live = TransferResult.from_dict(shipped.to_dict())
    live.config = {**live.config, "seeds": [7]}
    live.results = [r for r in live.results if r.seed == shipped.results[0].seed]
    text = report.against_shipped(live, shipped)
    assert text.startswith("Your run lands inside the range of the 5 shipped seeds for every strategy"), text
    low = {r.strategy: min(s.test_acc for s in shipped.results if s.strategy == r.strategy) for r in live.results}
    live.results[0].test_acc = low[live.results[0].strategy] - 0.05
    assert "outside the range of the 5 shipped seeds for 1 of" in report.against_shipped(live, shipped)
    live.config = {**live.config, "epochs": 1}
    assert "other settings (epochs)" in report.against_shipped(live, shipped)
