"""The lab's chart policy (resnet_core.figures): one tick policy, the phone and projector layouts, colour-blind-safe
pairs; and every figure builder of resnet_core/*/plots.py, run on the shipped results, through all of it."""

from __future__ import annotations

import importlib
import inspect
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from resnet_core import figures
from resnet_core.figures import axis_keys, devices, for_device, round_step, tick_policy, variant_style, wrap

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "assets" / "results"
PLOT_MODULES = sorted(p.parent.name for p in (ROOT / "resnet_core").glob("*/plots.py"))


def shipped(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


def visible_axes(fig: go.Figure) -> list:
    return [(k, fig.layout[k]) for k in axis_keys(fig) if fig.layout[k].visible is not False]


def is_log(fig: go.Figure, key: str) -> bool:
    return fig.layout[key].type == "log"


# ------------------------------------------------------------------------------------------ ticks
def test_log_axes_show_powers_of_ten_in_power_notation():
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[1e-16, 1e-8, 1e-4]))
    fig.update_yaxes(type="log")
    out = tick_policy(fig)
    y = out.layout.yaxis
    assert (y.tickmode, y.dtick, y.tick0, y.exponentformat) == ("linear", 2, 0, "power")  # 12 decades: every 2nd
    assert y.minor.ticks == "" and y.minexponent == 0
    assert fig.layout.yaxis.dtick is None  # a new figure; the input is untouched

    short = go.Figure(go.Scatter(x=[1, 2], y=[0.3, 2.5]))  # a loss: under one decade
    short.update_yaxes(type="log")
    y = tick_policy(short).layout.yaxis
    assert y.dtick == 1 and list(y.range) == [-1, 1]  # widened to 0.1 … 10: at least two powers of ten show


def test_every_axis_of_subplots_and_secondary_axes_follows_the_policy():
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[0, 1], y=[1e-3, 1]), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0.5, 0.9]), row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig.update_layout(yaxis3=dict(overlaying="y2", range=[0, 1], tickformat=".0%"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0.2, 0.4], yaxis="y3", xaxis="x2"))
    out = tick_policy(fig)
    assert out.layout.yaxis.dtick == 1 and out.layout.yaxis.exponentformat == "power"
    assert out.layout.yaxis2.dtick == 0.1  # 50 % … 90 %: steps of ten points
    y3 = out.layout.yaxis3
    assert (y3.tickmode, y3.dtick, y3.showgrid) == ("linear", 0.2, False)  # never "sync" ticks (97 %, 85 %, 73 %)
    assert out.layout.xaxis.nticks == 6 and out.layout.xaxis2.nticks == 6
    assert tick_policy(out).to_plotly_json() == out.to_plotly_json()  # idempotent


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (0, 1.02, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.7, 1.0, [0.7, 0.8, 0.9, 1.0]),
        (0, 0.25, [0, 0.05, 0.1, 0.15, 0.2, 0.25]),
    ],
)
def test_percent_axes_tick_at_round_percents(lo, hi, ticks):
    fig = go.Figure(go.Scatter(x=[1, 2], y=[lo, hi]))
    fig.update_yaxes(range=[lo, hi], tickformat=".0%")
    y = tick_policy(fig).layout.yaxis
    shown = [round(y.tick0 + i * y.dtick, 9) for i in range(100) if lo - 1e-9 <= y.tick0 + i * y.dtick <= hi + 1e-9]
    assert shown == ticks
    assert all(round(100 * t) % 5 == 0 for t in shown)  # never 97 %, 85 %, 73 %


def test_round_steps_are_one_two_five():
    assert [round_step(s) for s in (1.02, 0.3, 7, 45, 1000)] == [0.2, 0.1, 2, 10, 200]


def test_home_training_curve_reads_round_percents():
    from resnet_core.training.engine import ProgressEvent
    from resnet_core.training.plots import training_curve

    events = [ProgressEvent("step", i, 40, i / 20, 2.3 - i / 30, None, 0.1 * i) for i in range(1, 40)]
    events.append(ProgressEvent("epoch", 40, 40, 2.0, 1.0, 0.5, 4.0, metrics={"test_acc": 0.61}))
    y2 = training_curve(events).layout.yaxis2
    assert (y2.tickmode, y2.tick0, y2.dtick, y2.tickformat) == ("linear", 0, 0.2, ".0%")


# ------------------------------------------------------------------------------------------ devices
def side_by_side() -> go.Figure:
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=["plain", "residual"])
    for col in (1, 2):
        fig.add_trace(go.Scatter(x=[0, 1], y=[1, 2], name=f"net {col}"), row=1, col=col)
        fig.update_xaxes(title_text="relative depth (0 = input side, 1 = output side)", row=1, col=col)
    fig.update_yaxes(title_text="gradient", row=1, col=1)
    fig.update_layout(height=400)
    return fig


def test_phone_stacks_side_by_side_panels_into_rows_with_titles_above_each():
    fig = side_by_side()
    phone = for_device(fig, "phone")
    lay = phone.layout
    assert list(lay.xaxis.domain) == [0, 1] and list(lay.xaxis2.domain) == [0, 1]
    top, bottom = lay.yaxis.domain, lay.yaxis2.domain
    assert top[0] > bottom[1]  # two rows, not overlapping, the first panel on top
    titles = {a.text: a for a in lay.annotations}
    assert titles["plain"].y == pytest.approx(top[1]) and titles["residual"].y == pytest.approx(bottom[1])
    assert {titles["plain"].yanchor, titles["plain"].x} == {"bottom", 0.5}
    # the gap between the panels holds the upper panel's ticks and axis title and the lower panel's title
    plot_px = lay.height - lay.margin.t - lay.margin.b
    assert (top[0] - bottom[1]) * plot_px >= 60
    assert lay.yaxis2.showticklabels and lay.yaxis2.title.text == "gradient"  # every panel reads on its own
    assert lay.height > fig.layout.height and lay.legend.orientation == "h" and lay.legend.y < 0
    assert all(lay[k].automargin for k in ("xaxis", "yaxis", "xaxis2", "yaxis2"))
    assert fig.layout.xaxis.domain[1] < 0.5  # the input is unchanged


def test_phone_wraps_long_category_labels_and_titles():
    from resnet_core.transfer.plots import paired_figure

    rows = [
        {"a": "feature_extraction_bn_train", "b": "feature_extraction", "mean": -0.1, "low": -0.2, "high": -0.05}
        | {"diffs": [-0.1, -0.12]},
        {"a": "full_finetune", "b": "scratch", "mean": 0.1, "low": 0.05, "high": 0.15, "diffs": [0.1, 0.12]},
    ]
    phone = for_device(paired_figure(rows), "phone").layout
    assert phone.yaxis.tickmode == "array" and all(
        devices.text_width(line) <= 20 for t in phone.yaxis.ticktext for line in t.split("<br>") if " " in line
    )
    assert "<br>" in phone.title.text and "<br>" in phone.xaxis.title.text
    assert wrap("정답 클래스와 예측 클래스의 혼동 행렬", 12).count("<br>") >= 2  # Hangul counts double


def test_projector_sizes_every_font_line_and_marker():
    fig = side_by_side()
    fig.add_trace(go.Scatter(x=[0, 1, 1, 0], y=[1, 1, 2, 2], fill="toself", line=dict(width=0)))
    fig.add_trace(go.Scatter(x=[0, 1], y=[1, 2], mode="markers", marker=dict(size=4)))
    fig.update_layout(title="A title")
    big = for_device(fig, "projector")
    lay = big.layout
    assert lay.legend.font.size >= 20 and lay.title.font.size >= 24
    for key in axis_keys(big):
        assert lay[key].tickfont.size >= 20 and lay[key].title.font.size >= 24
    assert all(a.font.size >= 24 for a in lay.annotations)
    lines = [t for t in big.data if t.fill is None and "markers" not in (t.mode or "lines")]
    assert lines and all(t.line.width >= 3 for t in lines)
    assert big.data[2].line.width == 0  # a band keeps no outline
    assert big.data[3].marker.size >= 10
    assert lay.height > fig.layout.height


def test_screen_is_unchanged_and_devices_are_checked():
    fig = side_by_side()
    assert for_device(fig, "screen").to_plotly_json() == fig.to_plotly_json()
    with pytest.raises(ValueError):
        for_device(fig, "watch")


# ------------------------------------------------------------------------------------------ colours
def test_plain_and_residual_pairs_differ_in_colour_and_dash_in_the_degradation_figure():
    from resnet_core.degradation.plots import degradation_figure

    fig = degradation_figure(shipped("degradation.json"))
    curves = {t.name: t for t in fig.data if t.showlegend}
    depths = sorted({int(name.split("-")[1]) for name in curves})
    assert len(depths) >= 2
    for depth in depths:
        plain, resid = curves[f"plain-{depth}"], curves[f"residual-{depth}"]
        assert plain.line.color != resid.line.color and plain.line.dash != resid.line.dash
        assert plain.marker.symbol != resid.marker.symbol
    for kind in ("plain", "residual"):  # two depths of one kind: symbol and shade
        a, b = curves[f"{kind}-{depths[0]}"], curves[f"{kind}-{depths[-1]}"]
        assert a.marker.symbol != b.marker.symbol and a.line.color != b.line.color


def test_variant_colours_are_okabe_ito_and_keep_one_meaning():
    okabe = set(figures.OKABE_ITO.values())
    assert set(figures.VARIANT_COLORS.values()) <= okabe
    for depth in (8, 20, 56, 110):
        plain, resid = variant_style(False, depth, [8, 20, 56, 110]), variant_style(True, depth, [8, 20, 56, 110])
        assert plain["dash"] == "dash" and resid["dash"] == "solid" and plain["symbol"].endswith("-open")
        r, g, b = (int(resid["color"][i : i + 2], 16) for i in (1, 3, 5))
        assert b > r  # residual stays blue at every shade
        r, g, b = (int(plain["color"][i : i + 2], 16) for i in (1, 3, 5))
        assert r > b  # plain stays vermillion


# ------------------------------------------------------------------------------------------ every builder
def builders() -> dict:
    """Every public figure builder of resnet_core/*/plots.py (and the shared votes figure)."""
    found = {"figures.votes_figure": figures.votes_figure}
    for module in PLOT_MODULES:
        mod = importlib.import_module(f"resnet_core.{module}.plots")
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if (
                fn.__module__ == mod.__name__
                and not name.startswith("_")
                and (name.endswith("_figure") or name == "training_curve")
            ):
                found[f"{module}.{name}"] = fn
    return found


def shipped_figures() -> dict[str, go.Figure]:
    """One figure (or several) per builder, from the shipped results where the pages use them."""
    from resnet_core.ablation import plots as ablation
    from resnet_core.architectures import designs
    from resnet_core.architectures import plots as architectures
    from resnet_core.architectures.zoo import NetStats, net_stats
    from resnet_core.degradation import plots as degradation
    from resnet_core.gradients import plots as gradients
    from resnet_core.gradients.identity import run_identity_demo
    from resnet_core.layers import plots as layers
    from resnet_core.training.engine import ProgressEvent
    from resnet_core.training.plots import training_curve
    from resnet_core.transfer import plots as transfer
    from resnet_core.transfer.result import (
        comparison_path,
        load_result,
        load_shipped_sweep,
        paired_differences,
        summarize,
    )

    grads, deg, abl = shipped("gradients_batch.json"), shipped("degradation.json"), shipped("ablation56.json")
    comparison, sweep = load_result(comparison_path(None)), load_shipped_sweep()
    # what Architectures measures: residual ResNet-20 and -56 at initialisation, one seed
    shortcut = {"runs": [r for r in grads["runs"] if r["residual"] and r["depth"] in (20, 56) and r["seed"] == 0]}
    run = comparison.results[0]
    bug = [r for r in comparison.results if r.strategy == "feature_extraction_bn_train"][0]
    rng = np.random.default_rng(0)
    events = [
        ProgressEvent("step", i, 40, i / 20, 2.3 - i / 30, None, 0.1 * i, tag=tag)
        for i in range(1, 40)
        for tag in ("plain-20", "residual-20", "plain-56 · seed 1")
    ] + [ProgressEvent("epoch", 40, 40, 2.0, 1.0, 0.5, 4.0, metrics={"test_acc": 0.61}, tag="plain-20")]
    zoo = [
        NetStats("vgg16", "VGG-16", [3, 224, 224], 138_357_544, 15_470_264_320, 0, 109.4, 16, 0, 71.6),
        NetStats("resnet18", "ResNet-18", [3, 224, 224], 11_689_512, 1_814_083_072, 0, 24.0, 18, 172_032, 69.8),
        NetStats("resnet50", "ResNet-50", [3, 224, 224], 25_557_032, 4_089_184_256, 0, 169.6, 50, 1_512_448, 76.1),
    ]
    gradcam = SimpleNamespace(
        indices=[0, 1],
        class_names=["Coat", "Shirt"],
        strategies=["feature_extraction", "full_finetune"],
        true=[0, 1],
        preds={"feature_extraction": [0, 0], "full_finetune": [0, 1]},
        images=rng.integers(0, 255, (2, 1, 28, 28)).tolist(),
        heatmaps={s: rng.random((2, 28, 28)).tolist() for s in ("feature_extraction", "full_finetune")},
    )
    return {
        "figures.votes_figure": figures.votes_figure(
            {"a": "yes", "b": "no"}, [{"a": 3, "b": 5}, {"a": 7, "b": 1}], "a"
        ),
        "ablation.delete_one_figure": ablation.delete_one_figure(abl),
        "ablation.delete_k_figure": ablation.delete_k_figure(abl),
        "ablation.reorder_figure": ablation.reorder_figure(abl),
        "ablation.paths_figure": ablation.paths_figure(27, name="ResNet-56"),
        "architectures.zoo_bubble_figure": architectures.zoo_bubble_figure(zoo),
        "architectures.params_where_figure": architectures.params_where_figure([net_stats("resnet20")]),
        "architectures.block_diagram_figure": architectures.block_diagram_figure(designs.block_costs()),
        "architectures.shortcut_gradient_figure": architectures.shortcut_gradient_figure(
            {"A": shortcut, "B": shortcut}
        ),
        "degradation.degradation_figure": degradation.degradation_figure(deg),
        "degradation.degradation_live_figure": degradation.degradation_live_figure(events),
        "gradients.gradient_norms_figure": gradients.gradient_norms_figure(grads, "block_input"),
        "gradients.gradient_norms_figure relative": gradients.gradient_norms_figure(
            shipped("gradients_none.json"), "relative"
        ),
        "gradients.ratio_figure": gradients.ratio_figure(grads),
        "gradients.identity_demo_figure": gradients.identity_demo_figure(run_identity_demo(8)),
        "layers.feature_grid_figure": layers.feature_grid_figure(rng.random((8, 7, 7)), range(8), title="stage 1"),
        "layers.filters_figure": layers.filters_figure(rng.normal(size=(16, 1, 3, 3)), title="stem"),
        "layers.gradcam_figure": layers.gradcam_figure(gradcam, {"feature_extraction": "feature extraction"}),
        "training.training_curve": training_curve(events),
        "transfer.curves_figure": transfer.curves_figure(comparison.results),
        "transfer.sweep_figure": transfer.sweep_figure(summarize(sweep.results)),
        "transfer.confusion_figure": transfer.confusion_figure(run.confusion, comparison.class_names),
        "transfer.gallery_figure": transfer.gallery_figure(
            rng.integers(0, 255, (8, 1, 28, 28)), [0] * 8, [1] * 8, comparison.class_names
        ),
        "transfer.paired_figure": transfer.paired_figure(paired_differences(comparison.results)),
        "transfer.bn_drift_figure": transfer.bn_drift_figure(
            bug.bn_drift["layer_mean_shift"], bug.bn_drift["layer_var_log_ratio"]
        ),
    }


@pytest.fixture(scope="module")
def all_figures() -> dict[str, go.Figure]:
    return shipped_figures()


def test_every_builder_is_exercised(all_figures):
    assert set(builders()) <= {name.split(" ")[0] for name in all_figures}


@pytest.mark.parametrize("device", ["screen", "phone", "projector"])
def test_every_shipped_figure_passes_the_policy_on_every_device(all_figures, device):
    for name, fig in all_figures.items():
        out = for_device(tick_policy(fig), device)
        out.to_json()  # valid for plotly.js
        for key, axis in visible_axes(out):
            if is_log(out, key) and axis.tickvals is None:
                assert axis.dtick >= 1 and axis.exponentformat == "power", (name, key)
            if axis.tickmode == "sync" or (axis.overlaying and axis.tickmode is None):
                pytest.fail(f"{name} {key}: ticks borrowed from another axis")
        if device == "phone" and any(c["visible"] for c in devices._cells(fig)):
            cells = sorted(devices._cells(out), key=lambda c: -c["yd"][1])
            assert all(c["xd"] == (0, 1) for c in cells), name  # one column
            assert all(a["yd"][0] >= b["yd"][1] for a, b in zip(cells, cells[1:])), name  # rows that do not overlap
        if device == "projector":
            for trace in out.data:
                if trace.type == "scatter" and "lines" in (trace.mode or "") and trace.line.width != 0:
                    assert trace.line.width >= 3, name


def test_builders_apply_the_tick_policy_themselves(all_figures):
    """The CLI and any other caller get the policy too: applying it again changes nothing."""
    for name, fig in all_figures.items():
        assert tick_policy(fig).to_plotly_json() == fig.to_plotly_json(), name


def test_bands_draw_no_markers(all_figures):
    bands = [
        (n, t) for n, f in all_figures.items() for t in f.data if t.type == "scatter" and t.fill not in (None, "none")
    ]
    assert bands and all(t.mode == "lines" for _n, t in bands), [n for n, t in bands if t.mode != "lines"]


def test_log_axes_of_the_shipped_figures_label_powers_of_ten(all_figures):
    """Architectures A/B, Home's identity chart, the gradient charts and the transfer losses: powers of ten."""
    for name in (
        "architectures.shortcut_gradient_figure",
        "gradients.identity_demo_figure",
        "gradients.gradient_norms_figure",
        "gradients.ratio_figure",
        "transfer.curves_figure",
    ):
        fig = all_figures[name]
        logs = [axis for key, axis in visible_axes(fig) if is_log(fig, key)]
        assert logs, name
        for axis in logs:
            assert axis.tickmode == "linear" and axis.tick0 == 0 and axis.exponentformat == "power", name
            assert isinstance(axis.dtick, int) and axis.dtick >= 1 and not math.isnan(axis.dtick), name


# ------------------------------------------------------------------------------------------ lab_pages.charts
def test_chart_draws_the_figure_for_the_device_without_the_toolbar():
    from streamlit.testing.v1 import AppTest

    def page():
        import plotly.graph_objects as go

        from lab_pages.charts import chart

        fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[1e-6, 1e-3, 1]))
        chart(fig.update_yaxes(type="log").update_layout(height=300), key="c")

    shown = {}
    for present in (False, True):
        at = AppTest.from_function(page)
        at.session_state["present"] = present
        at.run()
        assert not at.exception, at.exception
        proto = at.get("plotly_chart")[0].proto
        shown[present] = json.loads(proto.spec)
        assert json.loads(proto.config) == {"displayModeBar": False}
    for spec in shown.values():
        assert spec["layout"]["yaxis"]["dtick"] == 1 and spec["layout"]["yaxis"]["exponentformat"] == "power"
    assert "tickfont" not in shown[False]["layout"]["yaxis"]  # screen: as built
    assert shown[True]["layout"]["yaxis"]["tickfont"]["size"] == 20 and shown[True]["data"][0]["line"]["width"] >= 3


def test_shared_chart_builds_once_for_every_session_that_draws_the_same_thing():
    from streamlit.testing.v1 import AppTest

    def page():
        import plotly.graph_objects as go
        import streamlit as st

        from lab_pages.charts import shared_chart

        def build():
            builds = st.session_state.setdefault("builds", [])
            builds.append(1)
            return go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))

        shared_chart(("shared-chart-test", st.session_state.get("step", 0)), build, key="c")

    def draw(present=False, step=0):
        at = AppTest.from_function(page)
        at.session_state["present"], at.session_state["step"] = present, step
        at.run()
        assert not at.exception, at.exception
        assert json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["y"] == [3, 4]
        return len(at.session_state["builds"]) if "builds" in at.session_state else 0

    assert draw() == 1  # the first session builds it
    assert draw() == 0  # a second session draws the same figure without building it
    assert draw(present=True) == 1  # a projector lays it out otherwise: built for it
    assert draw(step=1) == 1  # other content (the run got further): built again


@pytest.mark.parametrize(
    ("present", "agent", "device"),
    [
        (True, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", "projector"),
        (False, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148", "phone"),
        (False, "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile Safari/537.36", "phone"),
        (False, "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36", "screen"),
        (False, "", "screen"),
    ],
)
def test_device_is_projector_in_presenter_mode_phone_on_a_phone(monkeypatch, present, agent, device):
    from lab_pages import charts

    fake = SimpleNamespace(session_state={"present": present}, context=SimpleNamespace(headers={"User-Agent": agent}))
    monkeypatch.setattr(charts, "st", fake)
    assert charts.device() == device
