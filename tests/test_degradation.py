"""Degradation experiment: eval-mode training error, seeds, merging, the verdicts on constructed numbers, the page."""

import json

import pytest

from resnet_core import cli
from resnet_core.data.datasets import REPO_ROOT
from resnet_core.degradation import report
from resnet_core.degradation.config import DegradationConfig
from resnet_core.degradation.plots import degradation_figure, degradation_table
from resnet_core.degradation.result import DegradationResult, history_row, merge_results
from resnet_core.degradation.run import run_degradation


def test_training_error_is_measured_in_eval_mode_on_a_fixed_subset():
    config = DegradationConfig(
        depths=[8],
        variants=["residual"],
        train_size=100,
        test_size=50,
        train_eval_size=30,
        epochs=2,
        batch_size=25,
        seeds=[0, 1],
    )
    result = run_degradation(config, device="cpu")
    assert result.status == "done" and result.complete and result.seeds == [0, 1]
    assert result.train_eval_images == 30
    for run in result.runs:
        assert len(run.history) == 2
        for row in run.history:
            assert row["train_err"] == pytest.approx(1 - row["train_eval_acc"])
            assert row["running_train_err"] == pytest.approx(1 - row["train_acc"])
    assert result.run(8, True, 0).history != result.run(8, True, 1).history  # seeds differ


def test_history_row_of_an_old_file_falls_back_to_the_running_error():
    assert history_row({"epoch": 1, "train_acc": 0.75})["train_err"] == pytest.approx(0.25)


def test_cli_degradation_json_schema_and_merge(tmp_path):
    parts = []
    for seed in (0, 1):
        out = tmp_path / f"d{seed}.json"
        rc = cli.main(
            [
                "degradation",
                "--depths",
                "8,14",
                "--epochs",
                "1",
                "--max-steps",
                "2",
                "--train-size",
                "100",
                "--test-size",
                "50",
                "--train-eval-size",
                "20",
                "--batch-size",
                "25",
                "--seeds",
                str(seed),
                "--json",
                str(out),
            ]
        )
        assert rc == 0
        parts.append(out)
    payload = json.loads(parts[0].read_text())
    assert payload["config"]["depths"] == [8, 14] and payload["train_images"] == 100
    assert [(r["depth"], r["residual"]) for r in payload["runs"]] == [(8, False), (8, True), (14, False), (14, True)]
    for run in payload["runs"]:
        row = run["history"][0]
        assert {"epoch", "train_loss", "train_err", "running_train_err", "test_err"} <= row.keys()
    merged = tmp_path / "merged.json"
    assert cli.main(["degradation", "--merge", *map(str, parts), "--json", str(merged)]) == 0
    result = DegradationResult.from_dict(json.loads(merged.read_text()))
    assert result.seeds == [0, 1] and len(result.runs) == 8 and result.complete
    assert len(result.provenance["parts"]) == 2


def test_merge_refuses_different_configurations_and_repeated_seeds():
    a = DegradationResult(config=DegradationConfig(seeds=[0]).to_dict(), runs=[])
    b = DegradationResult(config=DegradationConfig(seeds=[1], epochs=3).to_dict(), runs=[])
    with pytest.raises(ValueError, match="epochs"):
        merge_results([a, b])
    with pytest.raises(ValueError, match="seed 0"):
        merge_results([a, DegradationResult(config=DegradationConfig(seeds=[0]).to_dict(), runs=[])])


def test_degradation_stops_when_asked():
    result = run_degradation(
        DegradationConfig(depths=[8], train_size=100, test_size=50), device="cpu", should_stop=lambda: True
    )
    assert result.status == "cancelled" and result.runs == [] and not result.complete


def _synthetic(plain_gaps: dict[int, float], resid_gaps: dict[int, float], *, status: str = "done") -> dict:
    """Final training errors: plain-20 10%, residual-20 9%, deep nets offset by the given gaps (points)."""

    def run(depth, residual, err, seed):
        return {
            "depth": depth,
            "residual": residual,
            "status": "done",
            "seed": seed,
            "history": [
                {"epoch": 1, "train_err": err + 0.1, "test_err": err + 0.12},
                {"epoch": 2, "train_err": err, "test_err": err + 0.02},
            ],
        }

    runs = []
    for seed in plain_gaps:
        runs += [
            run(20, False, 0.10, seed),
            run(20, True, 0.09, seed),
            run(56, False, 0.10 + plain_gaps[seed] / 100, seed),
            run(56, True, 0.09 + resid_gaps[seed] / 100, seed),
        ]
    return {"config": {"depths": [20, 56], "epochs": 2, "seeds": list(plain_gaps)}, "runs": runs, "status": status}


def test_verdict_only_when_every_seed_agrees():
    shows = report.headline(_synthetic({0: 12.0, 1: 16.0, 2: 9.0}, {0: -1.5, 1: -0.4, 2: 0.3}))
    assert shows.startswith("**The degradation problem shows on every seed (3 seeds):**")
    assert "+12.3 points" in shows and "at or below" in shows
    disagree = report.headline(_synthetic({0: 12.0, 1: -3.0, 2: 9.0}, {0: 0, 1: 0, 2: 0}))
    assert disagree.startswith("**Not seen on every seed:**")
    small = report.headline(_synthetic({0: 0.5, 1: 0.8}, {0: 0.0, 1: 0.0}))
    assert "Not seen on every seed" in small


def test_residual_tie_is_called_a_tie():
    text = report.headline(_synthetic({0: 12.0, 1: 16.0}, {0: 2.0, 1: -0.5}))
    assert "Residual: a tie within seed noise" in text and "95% interval" in text


def test_no_verdict_from_a_partial_run():
    partial = _synthetic({0: 12.0, 1: 16.0}, {0: 0.0, 1: 0.0}, status="running")
    assert report.headline(partial).startswith("**Partial result**")
    cut = _synthetic({0: 12.0, 1: 16.0}, {0: 0.0, 1: 0.0})
    cut["runs"] = cut["runs"][:-1]  # the last run never finished
    assert "Partial" in report.headline(cut)


def test_diverged_runs_are_left_out_and_named():
    data = _synthetic({0: 12.0, 1: 16.0}, {0: 0.0, 1: 0.0})
    data["runs"][-1]["status"] = "diverged"
    data["status"] = "diverged"
    gaps = report.gaps(data)
    assert set(gaps["residual"].per_seed) == {0}
    assert any("Diverged" in line for line in report.details(data))


def test_figure_and_table_average_over_seeds():
    data = _synthetic({0: 12.0, 1: 16.0}, {0: 0.0, 1: 0.0})
    fig = degradation_figure(data)
    names = {t.name for t in fig.data if t.showlegend}
    assert names == {"plain-20", "residual-20", "plain-56", "residual-56"}
    rows = {r["net"]: r for r in degradation_table(data)}
    assert rows["plain-56"]["train error (%)"] == pytest.approx(24.0) and rows["plain-56"]["seeds"] == 2


def test_page_reproduces_degradation_live_with_a_tiny_budget():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("lab_pages/gradient_flow.py").run()
    at.multiselect(key="gf-deg-depths").set_value([8])
    at.select_slider(key="gf-deg-size").set_value(500)
    at.number_input(key="gf-deg-epochs").set_value(1)
    next(b for b in at.button if b.label == "Reproduce live").click()
    at.run()
    assert not at.exception, at.exception
    job = at.session_state["gf-degradation-job"]
    assert job.wait(90), "training did not finish"
    at.run()
    assert not at.exception, at.exception
    assert job.result.status == "done" and [r.name for r in job.result.runs] == ["plain-8", "residual-8"]
    assert all(len(r.history) == 1 for r in job.result.runs)
    assert any("Plain nets at two depths" in m.value for m in at.markdown)
