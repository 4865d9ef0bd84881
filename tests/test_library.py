"""The results library (issue 13): a tiny library built with the local executor and with Ray (local Ray, 2 CPUs)
gives the same results; ``--resume`` re-runs nothing; ``library list``; the catalogue matches the shipped files.

Ray starts once for the module (its start-up is the slow part); every build uses the ``smoke`` catalogue: the
four experiment kinds at budgets of a second or less, seeds as independent runs where a result merges seeds.
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from resnet_core.cli import main
from resnet_core.data.datasets import REPO_ROOT
from resnet_core.library import executors
from resnet_core.library.build import adopt, build, plan
from resnet_core.library.entries import SHIPPED, SMOKE, Entry, catalog
from resnet_core.library.executors import RAY_MISSING, LocalExecutor, make_executor
from resnet_core.library.store import INDEX_NAME, Library, comparable, resolve

SMOKE_RUNS = sum(len(e.runs()) for e in SMOKE)


class CountingLocal(LocalExecutor):
    """The local executor, counting the runs it executes."""

    def __init__(self) -> None:
        super().__init__(threads=1)
        self.executed: list[str] = []

    def run(self, runs):
        self.executed += [r.label for r in runs]
        yield from super().run(runs)


@pytest.fixture(scope="module")
def local_lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("library_local")
    assert main(["library", "build", "--catalog", "smoke", "--library-dir", str(root), "--no-progress"]) == 0
    return root


@pytest.fixture(scope="module")
def ray_lib(tmp_path_factory):
    ray = pytest.importorskip("ray")
    root = tmp_path_factory.mktemp("library_ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}},
    )
    try:
        code = main(["library", "build", "--catalog", "smoke", "--library-dir", str(root), "--executor", "ray"])
    finally:
        ray.shutdown()
    assert code == 0
    return root


@pytest.mark.slow
def test_ray_and_local_builds_give_the_same_results(local_lib, ray_lib):
    for entry in SMOKE:
        local = json.loads((local_lib / entry.file).read_text())
        remote = json.loads((ray_lib / entry.file).read_text())
        assert comparable(local) == comparable(remote), entry.name
        assert local["status"] == "done"
        assert remote["provenance"]["library"]["executor"] == "ray"
        assert local["provenance"]["library"]["config_hash"] == remote["provenance"]["library"]["config_hash"]
    ray_index = json.loads((ray_lib / INDEX_NAME).read_text())
    assert {name: rec["executor"] for name, rec in ray_index["entries"].items()} == {e.name: "ray" for e in SMOKE}


def test_seeds_are_independent_runs_merged_into_one_result(local_lib):
    grads = json.loads((local_lib / "smoke_gradients.json").read_text())
    assert grads["config"]["seeds"] == [0, 1]
    assert sorted({r["seed"] for r in grads["runs"]}) == [0, 1]
    assert [p["seeds"] for p in grads["provenance"]["parts"]] == [[0], [1]]
    assert (local_lib / "parts" / "smoke_gradients" / "seed1.json").is_file()
    deg = json.loads((local_lib / "smoke_degradation.json").read_text())
    assert deg["config"]["seeds"] == [0, 1] and len(deg["runs"]) == 4  # plain + residual, 2 seeds
    transfer = json.loads((local_lib / "smoke_transfer.json").read_text())
    assert [(r["seed"], r["strategy"]) for r in transfer["results"]] == [
        (0, "feature_extraction"),
        (0, "partial_finetune"),
        (1, "feature_extraction"),
        (1, "partial_finetune"),
    ]
    assert {row["n_seeds"] for row in transfer["summary"]} == {2}


def test_resume_reruns_nothing(local_lib, capsys):
    counting = CountingLocal()
    report = build(list(SMOKE), Library(local_lib), counting, resume=True, progress=False)
    assert counting.executed == [] and report.ran == [] and report.written == []
    assert sorted(report.skipped_entries) == sorted(e.name for e in SMOKE)
    assert main(["library", "build", "--catalog", "smoke", "--library-dir", str(local_lib), "--resume"]) == 0
    assert f"0 run(s) done, {SMOKE_RUNS} skipped" in capsys.readouterr().out


def test_resume_runs_only_what_is_missing(local_lib, tmp_path):
    root = tmp_path / "lib"
    shutil.copytree(local_lib, root)
    before = json.loads((root / "smoke_gradients.json").read_text())
    (root / "parts" / "smoke_gradients" / "seed1.json").unlink()  # an interrupted build: seed 1 never finished
    lib = Library(root)
    del lib.index["entries"]["smoke_gradients"]
    lib.save()
    counting = CountingLocal()
    report = build(list(SMOKE), Library(root), counting, resume=True, progress=False)
    assert counting.executed == ["smoke_gradients/seed1"]
    assert report.skipped_runs == ["smoke_gradients/seed0"] and report.written == ["smoke_gradients"]
    assert comparable(json.loads((root / "smoke_gradients.json").read_text())) == comparable(before)


def test_config_hash_follows_the_configuration_and_the_checkpoints(monkeypatch):
    base = catalog("smoke")["smoke_ablation"]
    other = Entry(base.name, base.kind, base.file, {**base.overrides, "test_size": 200}, base.budget, base.command)
    assert other.config_hash != base.config_hash
    first = base.config_hash
    monkeypatch.setattr("resnet_core.experiment.checkpoint_sha256", lambda name: "changed")
    again = Entry(base.name, base.kind, base.file, dict(base.overrides), base.budget, base.command)
    assert again.config_hash != first  # a retrained checkpoint invalidates the results made from it
    assert len({r.config_hash for r in catalog("smoke")["smoke_gradients"].runs()}) == 2


def test_library_list_shows_state_age_device_and_budget(local_lib, capsys):
    assert main(["library", "list", "--catalog", "smoke", "--library-dir", str(local_lib)]) == 0
    out = capsys.readouterr().out
    for entry in SMOKE:
        line = next(line for line in out.splitlines() if line.startswith(entry.name + " "))
        assert "built (local)" in line and "CPU" in line and entry.budget in line
        assert " s " in line or " min " in line  # its age


def test_the_catalogue_matches_every_shipped_result_and_resume_on_this_repo_runs_nothing(tmp_path):
    root = tmp_path / "results"
    shutil.copytree(REPO_ROOT / "assets" / "results", root, ignore=shutil.ignore_patterns(INDEX_NAME, "parts"))
    adopted, refused = adopt(list(SHIPPED), Library(root))
    assert refused == {} and adopted == [e.name for e in SHIPPED]
    todo, report = plan(list(SHIPPED), Library(root), resume=True)
    assert todo == [] and len(report.skipped_entries) == len(SHIPPED)
    # and the index committed with the repository says the same
    todo, _ = plan(list(SHIPPED), Library(REPO_ROOT / "assets" / "results"), resume=True)
    assert todo == []
    assert resolve("ablation56") == REPO_ROOT / "assets" / "results" / "ablation56.json"


def test_a_missing_ray_is_a_clear_message(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(RuntimeError, match="pip install 'ray"):
        make_executor("ray")
    assert main(["library", "build", "--catalog", "smoke", "--executor", "ray", "--only", "smoke_gradients"]) == 2
    assert RAY_MISSING in capsys.readouterr().err


def test_the_app_and_the_local_executor_never_import_ray():
    import subprocess

    code = (
        "import sys, resnet_core.cli, resnet_core.library.build, resnet_core.library.executors; "
        "assert 'ray' not in sys.modules, 'ray imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)
    assert executors.LocalExecutor().describe().startswith("local")


def test_unknown_entry_names_are_refused(capsys):
    assert main(["library", "build", "--catalog", "smoke", "--only", "nope"]) == 2
    assert "no library entry named nope" in capsys.readouterr().err


def test_pages_read_a_result_by_library_name():
    from lab_pages.ui import read_result

    by_name = read_result("ablation56")
    assert by_name is not None
    assert by_name == read_result(REPO_ROOT / "assets" / "results" / "ablation56.json")
    assert by_name["config"]["depth"] == 56
    assert read_result("no_such_entry") is None


def test_a_failed_run_is_reported_and_the_others_are_still_written(tmp_path):
    good = catalog("smoke")["smoke_gradients"]
    bad = Entry("no_checkpoint", "ablation", "no_checkpoint.json", {"depth": 14, "test_size": 50}, "-", "-")
    report = build([bad, good], Library(tmp_path), LocalExecutor(threads=1), progress=False)
    assert list(report.failed) == ["no_checkpoint"] and report.written == ["smoke_gradients"]
    assert (tmp_path / "smoke_gradients.json").is_file() and not (tmp_path / "no_checkpoint.json").exists()
    assert "no_checkpoint" not in Library(tmp_path).index["entries"]
