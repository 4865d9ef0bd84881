"""Transfer learning: freezing really freezes (weights and BatchNorm statistics), parameter counts per strategy,
the ImageNet loading path, uploads as targets, the CLI's JSON contract, and the page (tiny budgets throughout)."""

from __future__ import annotations

import json

import pytest
import torch

from resnet_core import transfer as tr
from resnet_core.checkpoints import save_checkpoint
from resnet_core.data.datasets import ImageSet
from resnet_core.models import blocks_per_stage, build_cifar_net, count_parameters
from resnet_core.training import threads
from resnet_core.training.engine import seeded
from resnet_core.transfer import report
from resnet_core.transfer import run as run_mod
from resnet_core.transfer.prefix import split_prefix_tail

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory):
    """A depth-8 source net 'pretrained' for a few steps, so BN statistics are not the defaults."""
    net = seeded(lambda: build_cifar_net(8, num_classes=len(tr.SOURCE_CLASSES)), 0)
    net.train()
    with torch.no_grad():  # move the BN running stats away from (0, 1)
        for _ in range(3):
            net(torch.randn(16, 1, 28, 28) * 2 + 0.5)
    path = tmp_path_factory.mktemp("src") / "tiny_source.pt"
    save_checkpoint(net, path, meta={"model": "resnet8"}, half=False)
    return path


def tiny_config(**kw) -> tr.TransferConfig:
    base = dict(
        shots=[2],
        seeds=[0],
        epochs=2,
        batch_size=8,
        min_epoch_images=8,
        val_per_class=3,
        test_per_class=4,
        staged_head_epochs=1,
    )
    base.update(kw)
    return tr.TransferConfig(**base)


def run_capturing(monkeypatch, strategy, source_path, **kw):
    """Run one strategy and return (model before training as a state copy, model after, result)."""
    built = {}
    original = run_mod.build_model

    def capture(*args, **kwargs):
        model = original(*args, **kwargs)
        built["model"] = model
        built["before"] = {k: v.clone() for k, v in model.state_dict().items()}
        return model

    monkeypatch.setattr(run_mod, "build_model", capture)
    config = tiny_config(strategies=[strategy], **kw)
    result = tr.run_transfer(config, device=CPU, source_checkpoint_path=source_path)
    return built["before"], built["model"].state_dict(), result.results[0]


def changed(before: dict, after: dict, prefix: str) -> dict[str, bool]:
    return {k: not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix)}


def test_feature_extraction_keeps_backbone_and_bn_statistics(monkeypatch, tiny_source):
    before, after, run = run_capturing(monkeypatch, "feature_extraction", tiny_source)
    body = changed(before, after, "body.")
    assert any("running_mean" in k for k in body) and any("running_var" in k for k in body)
    assert not any(body.values()), [k for k, v in body.items() if v]
    assert any(changed(before, after, "head.").values()), "the head must train"
    assert run.status == "done" and len(run.history) == 2


@pytest.mark.parametrize("bn_mode", ["frozen", "train"])
def test_partial_finetune_freezes_all_but_the_last_stage(monkeypatch, tiny_source, bn_mode):
    before, after, run = run_capturing(monkeypatch, "partial_finetune", tiny_source, bn_mode=bn_mode)
    n = blocks_per_stage(8)  # depth 8: one block per stage; blocks 0, 1 frozen, block 2 trains
    frozen = {
        **changed(before, after, "body.stem."),
        **changed(before, after, "body.blocks.0."),
        **changed(before, after, "body.blocks.1."),
    }
    assert frozen and not any(frozen.values()), [k for k, v in frozen.items() if v]
    last = changed(before, after, f"body.blocks.{3 * n - 1}.")
    assert last[f"body.blocks.{3 * n - 1}.conv1.weight"], "the last stage must train"
    stats = [v for k, v in last.items() if "running_" in k]
    assert stats and (any(stats) if bn_mode == "train" else not any(stats))


def test_full_finetune_with_frozen_bn_moves_weights_not_statistics(monkeypatch, tiny_source):
    before, after, _ = run_capturing(monkeypatch, "full_finetune", tiny_source)
    body = changed(before, after, "body.")
    assert body["body.stem.0.weight"] and body["body.blocks.0.conv1.weight"]
    assert not any(v for k, v in body.items() if "running_" in k or "num_batches" in k)
    before, after, _ = run_capturing(monkeypatch, "scratch", tiny_source)
    assert changed(before, after, "body.")["body.stem.1.running_mean"], "scratch trains BN statistics"


def test_trainable_parameter_counts(tiny_source):
    config = tiny_config()
    source = tr.load_source(config, checkpoint_path=tiny_source)
    model = tr.build_model(source, 1, 28, 4, pretrained=True, seed=0, dropout=0.0)
    total = count_parameters(model)
    head = 64 * 4 + 4  # width 16 -> 64 features in the last stage, 4 target classes
    last_stage = count_parameters(model.body.blocks[2])
    expected = {
        "feature_extraction": head,
        "partial_finetune": last_stage + head,
        "full_finetune": total,
        "staged": total,
        "scratch": total,
    }
    for strategy, n in expected.items():
        assert tr.trainable_parameter_count(model, strategy, config) == n, strategy
    assert head < last_stage + head < total


def test_results_round_trip_and_text(tiny_source):
    config = tiny_config(strategies=["scratch", "feature_extraction"], seeds=[0, 1], epochs=1)
    result = tr.run_transfer(config, device=CPU, source_checkpoint_path=tiny_source)
    assert len(result.results) == 4
    d = json.loads(json.dumps(result.to_dict()))
    again = tr.TransferResult.from_dict(d)
    assert [r.test_acc for r in again.results] == [r.test_acc for r in result.results]
    assert again.results[0].confusion == result.results[0].confusion
    assert sum(map(sum, result.results[0].confusion)) == 16  # 4 classes x 4 test images
    summary = tr.summarize(result.results)
    assert {(r["strategy"], r["n_seeds"]) for r in summary} == {("scratch", 2), ("feature_extraction", 2)}
    assert "per class" in tr.describe_comparison(result) and "±" in tr.describe_sweep(result)


def test_same_seed_same_draw_and_cancel(tiny_source):
    a = tr.run_transfer(
        tiny_config(strategies=["feature_extraction"], epochs=1), device=CPU, source_checkpoint_path=tiny_source
    )
    b = tr.run_transfer(
        tiny_config(strategies=["feature_extraction"], epochs=1), device=CPU, source_checkpoint_path=tiny_source
    )
    assert a.results[0].test_acc == b.results[0].test_acc
    assert a.results[0].history[0]["val_loss"] == pytest.approx(b.results[0].history[0]["val_loss"])
    stopped = tr.run_transfer(tiny_config(), device=CPU, should_stop=lambda: True, source_checkpoint_path=tiny_source)
    assert stopped.status == "cancelled" and not stopped.results
    events = []
    stopped = tr.run_transfer(
        tiny_config(strategies=["scratch", "feature_extraction"], epochs=3),
        device=CPU,
        on_progress=events.append,
        should_stop=lambda: len(events) >= 1,
        source_checkpoint_path=tiny_source,
    )
    # Each run in flight stops within its epoch; runs go side by side when the app's thread plan is configured
    # (an AppTest earlier in this process runs app.py), so up to one event per worker.
    from resnet_core.training.threads import workers

    assert stopped.status == "cancelled" and not stopped.results, "a stop keeps no half-finished run"
    assert 1 <= len(events) <= workers(CPU), "stops within one epoch"


def test_early_stopper_restores_the_best_weights():
    net = torch.nn.Linear(3, 2)
    stopper = tr.EarlyStopper(net, enabled=True, patience=2)
    stopper.update(1, 0.6)
    best = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        net.weight.add_(1.0)  # a later, worse epoch moved the weights
    stopper.update(2, 0.4)
    assert not stopper.triggered
    stopper.update(3, 0.5)
    assert stopper.triggered and stopper.best_epoch == 1
    stopper.restore()
    assert all(torch.equal(best[k], v) for k, v in net.state_dict().items()), "restore must bring the best back"


def test_early_stopping_tests_the_best_weights_not_the_last(tiny_source):
    """A real run whose weights change (lr > 0) and whose last epoch is worse than its best: the tested weights
    must be the best epoch's (their validation accuracy is the best one, not the last one)."""
    config = tiny_config(
        strategies=["feature_extraction"],
        epochs=6,
        lr_head=0.5,
        early_stopping=True,
        patience=10,
        shots=[3],
        val_per_class=10,
    )
    r = tr.run_transfer(config, device=CPU, source_checkpoint_path=tiny_source).results[0]
    vals = [h["val_acc"] for h in r.history]
    assert len(vals) == 6 and vals[-1] < max(vals), f"the case needs a last epoch worse than the best: {vals}"
    assert r.best_epoch == vals.index(max(vals)) + 1
    assert r.tested_val_acc == pytest.approx(max(vals)), "the tested weights are not the best epoch's"
    assert r.final_val_acc == pytest.approx(max(vals))
    assert r.status == "done"
    small = tr.run_transfer(
        tiny_config(
            strategies=["feature_extraction"],
            epochs=6,
            early_stopping=True,
            patience=1,
            shots=[3],
            val_per_class=10,
            lr_head=0.5,
        ),
        device=CPU,
        source_checkpoint_path=tiny_source,
    ).results[0]
    assert small.status == "early-stopped" and small.epochs_run < 6


def test_head_training_divergence_check_fires(tiny_source):
    from resnet_core.training.engine import TrainConfig
    from resnet_core.training.frozen import train_head

    feats = {"views": torch.randn(1, 16, 8) * 100, "train": torch.randn(16, 8), "val": torch.randn(4, 8)}
    labels = {"train": torch.arange(4).repeat(4), "val": torch.arange(4)}
    model = torch.nn.Module()
    model.head, model.dropout = torch.nn.Linear(8, 4), torch.nn.Dropout(0.0)
    config = tiny_config(lr_head=1e30)
    history, status = tr.train_head_on_features(
        model,
        feats,
        labels,
        config,
        epochs=3,
        seed=0,
        device=CPU,
        start_time=0.0,
        should_stop=lambda: False,
        on_epoch=lambda *a: False,
    )
    assert status == "diverged"
    nan_feats = {**feats, "views": torch.full((1, 16, 8), float("nan"))}
    assert (
        tr.train_head_on_features(
            model,
            nan_feats,
            labels,
            tiny_config(),
            epochs=1,
            seed=0,
            device=CPU,
            start_time=0.0,
            should_stop=lambda: False,
            on_epoch=lambda *a: False,
        )[1]
        == "diverged"
    )
    # the engine's train_head too
    head = torch.nn.Linear(8, 4)
    res = train_head(
        head, torch.full((16, 8), float("nan")), labels["train"], TrainConfig(epochs=2, batch_size=8), device=CPU
    )
    assert res.status == "diverged" and res.diverged_at_step is not None
    # and a whole run reports it
    run = tr.run_transfer(
        tiny_config(strategies=["feature_extraction"], lr_head=1e38), device=CPU, source_checkpoint_path=tiny_source
    ).results[0]
    assert run.status == "diverged"


def test_augmentation_parity_cached_views_differ(tiny_source):
    config = tiny_config()
    source = tr.load_source(config, checkpoint_path=tiny_source)
    target = tr.load_target(config)
    train_set = target.pool.subset(torch.arange(8))
    model = tr.build_model(source, 1, 28, 4, pretrained=True, seed=0, dropout=0.0)
    feats = tr.cached_features(model, train_set, target.val, config, seed=0, device=CPU)
    views = feats["views"]
    assert views.shape == (config.feature_views, 8, feats["train"].shape[1])
    assert not torch.allclose(views[0], views[1]), "augmented views must differ from each other"
    assert not torch.allclose(views[0], feats["train"]), "and from the clean images"
    again = tr.cached_features(model, train_set, target.val, config, seed=0, device=CPU)["views"]
    assert torch.equal(views, again), "seeded"
    clean = tr.cached_features(model, train_set, target.val, tiny_config(augment=False), seed=0, device=CPU)
    assert clean["views"].shape[0] == 1 and torch.equal(clean["views"][0], clean["train"])
    assert (
        tr.cached_features(model, train_set, target.val, tiny_config(feature_views=0), seed=0, device=CPU)[
            "views"
        ].shape[0]
        == 1
    )


def test_bn_train_mode_drifts_statistics_frozen_does_not(monkeypatch, tiny_source):
    before, after, run = run_capturing(monkeypatch, "feature_extraction_bn_train", tiny_source)
    body = changed(before, after, "body.")
    assert any(v for k, v in body.items() if "running_mean" in k), "train-mode BN must move its statistics"
    assert not any(v for k, v in body.items() if k.endswith(("weight", "bias"))), "but no weight trains"
    assert run.bn_drift["mean_shift"] > 0 and run.trainable_params == 64 * 4 + 4
    _, _, frozen = run_capturing(monkeypatch, "feature_extraction", tiny_source)
    assert frozen.bn_drift["mean_shift"] == 0 and frozen.bn_drift["var_log_ratio"] == 0
    _, _, scratch = run_capturing(monkeypatch, "scratch", tiny_source)
    assert scratch.bn_drift == {}


def test_upload_target_with_rgb_images(tiny_source):
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat_interleave(8)
    images = torch.randint(0, 256, (24, 3, 32, 32), generator=gen, dtype=torch.uint8)
    images[labels == 1] //= 4  # make the classes a little separable
    upload = ImageSet(images, labels, ["a", "b", "c"], "upload")
    config = tiny_config(target="upload", strategies=["feature_extraction", "partial_finetune"])
    result = tr.run_transfer(config, device=CPU, upload=upload, source_checkpoint_path=tiny_source)
    assert result.class_names == ["a", "b", "c"] and len(result.results) == 2
    with pytest.raises(ValueError, match="upload"):
        tr.run_transfer(config, device=CPU, source_checkpoint_path=tiny_source)


def test_imagenet_loading_path(tmp_path, monkeypatch):
    import torchvision

    from resnet_core.checkpoints import imagenet_weights_file

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    config = tiny_config(
        source="imagenet-resnet18",
        strategies=["feature_extraction"],
        epochs=1,
        image_size=32,
        shots=[1],
        val_per_class=1,
        test_per_class=2,
    )
    with pytest.raises(FileNotFoundError, match="resnet18"):
        tr.load_source(config)
    file = imagenet_weights_file("resnet18")
    assert str(file).startswith(str(tmp_path))
    file.parent.mkdir(parents=True)
    reference = seeded(lambda: torchvision.models.resnet18(weights=None), 3)
    torch.save(reference.state_dict(), file)
    source = tr.load_source(config)
    model = tr.build_model(source, 1, 28, 4, pretrained=True, seed=0, dropout=0.0)
    assert torch.equal(model.body.conv1.weight, reference.conv1.weight), "weights come from the file"
    assert torch.equal(model.body.layer4[1].bn2.running_var, reference.layer4[1].bn2.running_var)
    x = torch.randn(2, 1, 28, 28)
    assert model.adapter(x).shape == (2, 3, 32, 32)  # grey -> RGB, resized, ImageNet-normalised
    assert model(x).shape == (2, 4)
    result = tr.run_transfer(config, device=CPU)
    assert result.results[0].trainable_params == 512 * 4 + 4
    assert result.source_info["name"] == "resnet18"


def test_cli_json_contract(tmp_path, tiny_source):
    from resnet_core.cli import main

    out = tmp_path / "t.json"
    code = main(
        [
            "transfer",
            "--shots",
            "2",
            "--strategies",
            "scratch,feature_extraction,staged",
            "--seeds",
            "0,1",
            "--epochs",
            "2",
            "--batch-size",
            "8",
            "--min-epoch-images",
            "8",
            "--val-per-class",
            "3",
            "--test-per-class",
            "13",  # 52 test images: enough for a verdict (report.MIN_TEST_IMAGES)
            "--staged-head-epochs",
            "1",
            "--device",
            "cpu",
            "--checkpoint",
            str(tiny_source),
            "--json",
            str(out),
        ]
    )
    assert code == 0
    payload = json.loads(out.read_text())
    assert set(payload) >= {"config", "results"}
    assert payload["config"]["shots"] == [2] and payload["config"]["seeds"] == [0, 1]
    assert len(payload["results"]) == 6
    for r in payload["results"]:
        assert set(r) >= {
            "strategy",
            "seed",
            "shots",
            "best_val_acc",
            "final_val_acc",
            "test_acc",
            "train_seconds",
            "trainable_params",
            "history",
        }
        assert r["shots"] == 2 and 0 <= r["test_acc"] <= 1 and r["train_seconds"] > 0
        assert len(r["history"]) == 2
        for h in r["history"]:
            assert set(h) >= {"epoch", "train_loss", "val_loss", "val_acc", "seconds"}
    assert main(["transfer", "--strategies", "nonsense", "--checkpoint", str(tiny_source)]) == 2
    for r in payload["results"]:
        assert r["test_images"] == 52 and r["test_se"] == pytest.approx(
            (r["test_acc"] * (1 - r["test_acc"]) / 52) ** 0.5
        )
    verdicts = payload["verdicts"]
    assert verdicts["status"] == "done" and [(p["a"], p["b"]) for p in verdicts["pairs"]] == [
        ("feature_extraction", "scratch")
    ]
    assert all(p["n"] == 2 and p["verdict"] in ("a", "b", "tie") for p in verdicts["pairs"])


def test_cli_one_seed_names_no_winner(tmp_path, tiny_source, capsys):
    from resnet_core.cli import main

    out = tmp_path / "t.json"
    code = main(
        [
            "transfer",
            "--shots",
            "2",
            "--strategies",
            "scratch,feature_extraction",
            "--seeds",
            "7",
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--min-epoch-images",
            "8",
            "--val-per-class",
            "3",
            "--test-per-class",
            "3",
            "--device",
            "cpu",
            "--checkpoint",
            str(tiny_source),
            "--json",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "no verdict" in printed and "winner:" not in printed and "50× slower" in printed
    overall = json.loads(out.read_text())["verdicts"]["overall"]["2"]
    assert overall["verdict"] is None


def test_cli_pretrain_source_for_a_drawn_split(tmp_path):
    from resnet_core.cli import main

    out, record = tmp_path / "s.pt", tmp_path / "s.json"
    code = main(
        [
            "pretrain-source",
            "--split-seed",
            "3",
            "--dataset",
            "bundled",
            "--per-class",
            "4",
            "--depth",
            "8",
            "--epochs",
            "1",
            "--max-steps",
            "1",
            "--device",
            "cpu",
            "--out",
            str(out),
            "--no-manifest",
            "--json",
            str(record),
        ]
    )
    assert code == 0 and out.is_file()
    meta = json.loads(record.read_text())
    assert (meta["source_class_ids"], meta["target_class_ids"]) == tr.draw_split(3) and meta["split_seed"] == 3


def test_shipped_source_checkpoints_in_manifest():
    from resnet_core.checkpoints import CHECKPOINT_DIR, load_checkpoint, read_manifest
    from resnet_core.provenance import sha256_file

    entries = {n: e for n, e in read_manifest()["checkpoints"].items() if e.get("role") == "transfer-source"}
    if tr.SOURCE_NAME not in entries or not tr.SOURCE_PATH.is_file():
        pytest.skip("the transfer source checkpoint has not been shipped in this checkout")
    for name, entry in entries.items():
        split_seed = entry.get("split_seed")
        assert name == tr.source_name(split_seed)
        path = CHECKPOINT_DIR / entry["file"]
        assert entry["sha256"] == sha256_file(path) and path.stat().st_size < 1_000_000
        source, target = tr.draw_split(split_seed)
        assert entry["source_class_ids"] == source and entry["target_class_ids"] == target
        model, meta = load_checkpoint(path)
        assert model.fc.out_features == 6 and meta["command"].startswith("python -m resnet_core")
        if split_seed is not None:
            assert f"--split-seed {split_seed}" in meta["command"]


def test_shipped_comparisons_support_their_verdicts():
    """Every shipped k=20 comparison: done, >= 5 seeds, with provenance; any winner it names is supported by its own
    intervals (the winner's paired difference with every other strategy has a 95% interval above 0)."""
    shipped = tr.shipped_comparisons()
    if not shipped:
        pytest.skip("no shipped comparison in this checkout")
    for split_seed, res in shipped.items():
        assert res.status == "done" and res.config["split_seed"] == split_seed
        assert len(res.config["seeds"]) >= 5 and res.provenance["command"].startswith("python -m resnet_core")
        call = tr.overall_verdict(res, 20)
        if call["verdict"] == "winner":
            for other in call["beaten"]:
                d = tr.paired_differences(res.results, [(call["best"], other)])[0]
                assert d["low"] > 0
        assert all(r.test_images == res.data_info["test_images"] for r in res.results)


def open_transfer_page():
    """The app, switched to the transfer page (AppTest), or a skip without the shipped source checkpoint."""
    from streamlit.testing.v1 import AppTest

    from resnet_core.data.datasets import REPO_ROOT

    if not tr.SOURCE_PATH.is_file():
        pytest.skip("the shipped source checkpoint is needed by the page")
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("lab_pages/transfer_learning.py")
    at.run()
    assert not at.exception
    return at


def test_page_runs_a_tiny_comparison():
    at = open_transfer_page()
    if tr.shipped_comparisons():  # the shipped result shows at once, with its verdict words and the BN section
        assert any("Shipped comparison" in h.value for h in at.header)
        assert at.radio[0].options and any("BatchNorm in train mode" in h.value for h in at.subheader)
        assert any("95% CI" in m.value for m in at.markdown)
    at.multiselect[0].set_value(["scratch", "feature_extraction"])
    widgets = {w.label: w for w in at.number_input}
    widgets["Labelled images per class (k)"].set_value(1)
    widgets["Epochs"].set_value(1)
    widgets["Validation images per class"].set_value(5)
    widgets["Test images per class (0 = all)"].set_value(4)
    at.run()
    next(b for b in at.button if b.label == "Train all strategies").click()
    at.run()
    assert not at.exception
    job = at.session_state["transfer-job"]
    assert job.wait(120), "the tiny job should finish"
    at.run()
    assert not at.exception, at.exception
    assert job.result is not None and len(job.result.results) == 2
    assert any("Results" in s.value for s in at.subheader)


def test_page_runs_a_tiny_label_budget_sweep():
    """The label-budget section (lab_pages/transfer_sweep.py): a live sweep with the page's settings runs as a job
    and draws its curve, with no exception on the way."""
    at = open_transfer_page()
    at.multiselect[0].set_value(["feature_extraction"])
    widgets = {w.label: w for w in at.number_input}
    widgets["Validation images per class"].set_value(5)
    widgets["Test images per class (0 = all)"].set_value(4)
    widgets["Seeds per cell"].set_value(1)
    widgets["Epochs per run"].set_value(1)
    next(m for m in at.multiselect if m.label == "Shots per class").set_value([1, 2])
    at.run()
    assert any("2 runs." in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Run sweep").click()
    at.run()
    assert not at.exception
    job = at.session_state["transfer-sweep-job"]
    assert job.wait(120), "the tiny sweep should finish"
    at.run()
    assert not at.exception, at.exception
    assert job.result is not None and sorted(r.shots for r in job.result.results) == [1, 2]


# ------------------------------------------------------------------------------------------- transfer


def test_transfer_side_by_side_equals_one_by_one(tiny_source, monkeypatch):
    monkeypatch.setattr(threads, "_PLAN", threads.ThreadPlan(1, 2, 2, "test"))  # as if configure() ran
    # Bit-for-bit equality needs the same intra-op thread count in both runs (as the plan sets it): an earlier
    # test in the same process may have left torch with another, and sums then round differently.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # keep it for both runs
    config = tiny_config(strategies=["scratch", "partial_finetune", "full_finetune"], seeds=[0, 1])
    parallel = tr.run_transfer(config, device=CPU, source_checkpoint_path=tiny_source)
    monkeypatch.setattr(threads, "_PLAN", None)
    serial = tr.run_transfer(config, device=CPU, source_checkpoint_path=tiny_source)
    key = [(r.strategy, r.seed, r.test_acc, r.test_loss, r.final_val_acc) for r in serial.results]
    monkeypatch.undo()
    torch.set_num_threads(before)
    assert key == [(r.strategy, r.seed, r.test_acc, r.test_loss, r.final_val_acc) for r in parallel.results]


def test_prefix_and_tail_compose_to_the_model(tiny_source):
    config = tiny_config()
    source = tr.load_source(config, checkpoint_path=tiny_source)
    model = tr.build_model(source, 1, 28, 4, pretrained=True, seed=0, dropout=0.0).eval()
    prefix, tail = split_prefix_tail(model)
    x = torch.randn(5, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(tail(prefix(x)), model(x), atol=1e-5)


def test_partial_on_cached_prefix_matches_the_engine_path(tiny_source):
    """Same data, same seed: the cached-prefix path and the engine path train the same layers to a similar net
    (augmented views are drawn differently, so not bit for bit); without augmentation the first epoch's loss
    starts from the same weights on the same images."""
    kw = dict(strategies=["partial_finetune"], epochs=3, augment=False)
    cached = tr.run_transfer(tiny_config(**kw), device=CPU, source_checkpoint_path=tiny_source).results[0]
    plain = tr.run_transfer(
        tiny_config(cache_prefix=False, **kw), device=CPU, source_checkpoint_path=tiny_source
    ).results[0]
    assert cached.status == plain.status == "done"
    assert cached.trainable_params == plain.trainable_params and cached.epochs_run == plain.epochs_run
    assert abs(cached.test_acc - plain.test_acc) <= 0.25  # 16 test images: a few images either way
    assert cached.history[0]["train_loss"] == pytest.approx(plain.history[0]["train_loss"], rel=0.3)


def test_an_upload_smaller_than_k_says_what_it_used_and_gives_no_verdict_on_a_tiny_test_set(tiny_source):
    """10 images per class and k = 20: the runs train on what the upload holds, the words and tables say so, and a
    test set of 6 images gives no winner (it once printed "100.0% ± 0.0" and "−50.0 points")."""
    gen = torch.Generator().manual_seed(1)
    labels = torch.arange(3).repeat_interleave(10)
    images = torch.randint(0, 256, (30, 3, 32, 32), generator=gen, dtype=torch.uint8)
    upload = ImageSet(images, labels, ["a", "b", "c"], "upload")
    config = tiny_config(
        target="upload", shots=[20], seeds=[0, 1], strategies=["scratch", "feature_extraction"], test_per_class=None
    )
    result = tr.run_transfer(config, device=CPU, upload=upload, source_checkpoint_path=tiny_source)
    used = {r.k_used for r in result.results}
    assert used == {6} and all(r.shots == 20 and r.n_test == 6 for r in result.results)  # 10 - 2 test - 2 val
    text = report.describe_comparison(result)
    assert "Asked for 20 labelled images per class" in text and "no more than 6 per class" in text, text
    assert "after 6 validation and 6 test images were set aside" in text, text  # 2 and 2 of each class
    assert "With 6 labelled images per class" in text and "too few for a verdict" in text, text
    assert "wins" not in text and "**tie**" not in text and "better" not in text
    assert report.overall_verdict(result, 20)["verdict"] is None
    assert {row["shots"] for row in report.results_table(result)} == {6}
    assert {row["shots"] for row in report.summary_table(result)} == {6}
