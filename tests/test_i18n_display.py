"""What a Korean reader sees beyond the page text: plot hover texts, legends and axes, Fashion-MNIST class names,
upload rejection reasons and job messages are Korean under ``language("ko")`` and unchanged English otherwise."""

from __future__ import annotations

import io
import re
import time
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from resnet_core import i18n
from resnet_core.ablation import plots as ablation
from resnet_core.architectures import plots as architectures
from resnet_core.data.datasets import FASHION_CLASSES, class_label
from resnet_core.gradients.plots import identity_demo_figure
from resnet_core.layers import plots as layers_plots
from resnet_core.training.engine import ProgressEvent
from resnet_core.training.plots import training_curve
from resnet_core.transfer import plots as transfer

# Names and units that stay as they are in Korean (the catalog keeps them too).
KEPT = {"plain", "ResNet", "GMACs", "MACs", "MB", "top", "VGG", "BN", "ReLU", "layer4", "conv", "CIFAR", "ImageNet"}
TEXT_KEYS = {"hovertemplate", "name", "text", "ticktext", "title"}


def figure_texts(fig) -> list[str]:
    """Every reader-visible string of a plotly figure: hover templates, trace names, titles, annotations, ticks."""
    out: list[str] = []

    def walk(value, key=""):
        if isinstance(value, dict) and "bdata" not in value:  # numpy arrays (a heatmap's counts) are numbers
            for k, v in value.items():
                walk(v, k if k in TEXT_KEYS else key)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key:
            out.append(value)

    walk(fig.to_plotly_json())
    return out


def english_words(texts: list[str]) -> list[str]:
    """Latin words of 3+ letters outside plotly's %{...} placeholders and HTML tags, minus the kept terms."""
    words = []
    for t in texts:
        t = re.sub(r"%\{[^}]*\}|<[^>]*>", " ", t)
        words += [w for w in re.findall(r"[A-Za-z][A-Za-z0-9-]{2,}", t) if w.split("-")[0] not in KEPT]
    return words


def figures():
    events = [
        ProgressEvent("step", 1, 4, 0.5, 2.0, None, 1.0),
        ProgressEvent("epoch", 2, 4, 1.0, 1.5, 0.5, 2.0, metrics={"test_acc": 0.6}),
    ]
    demo = SimpleNamespace(num_blocks=3, plain=[1.0, 0.1, 0.01], residual=[1.0, 0.9, 0.8])
    runs = [
        {"strategy": s, "seed": seed, "history": [{"epoch": 1, "val_acc": 0.5, "val_loss": 1.0, "seconds": 2.0}]}
        for s in ("scratch", "full_finetune")
        for seed in (0, 1)
    ]
    summary = [
        {"strategy": "scratch", "shots": k, "test_acc_mean": 0.5, "test_acc_std": 0.1, "n_seeds": 3}
        | {"train_seconds_mean": 2.0}
        for k in (5, 20, None)
    ]
    paired = [{"a": "full_finetune", "b": "scratch", "mean": 0.1, "low": 0.05, "high": 0.15, "diffs": [0.1, 0.12]}]
    names = [class_label(c) for c in FASHION_CLASSES[:3]]
    stats = [
        SimpleNamespace(
            name="resnet50", title="ResNet-50", macs=4e9, params=25e6, depth=50, activation_mb=100.0, imagenet_top1=76.1
        )
    ]
    return {
        "training_curve": training_curve(events),
        "identity_demo": identity_demo_figure(demo),
        "paths": ablation.paths_figure(6, name="ResNet-20"),
        "curves": transfer.curves_figure(runs),
        "sweep": transfer.sweep_figure(summary),
        "confusion": transfer.confusion_figure([[5, 1, 0], [0, 4, 2], [1, 0, 5]], names),
        "paired": transfer.paired_figure(paired),
        "bubble": architectures.zoo_bubble_figure(stats),
        "filters": layers_plots.feature_grid_figure(np.random.rand(4, 5, 5), [0, 1, 2, 3], title="스템"),
    }


def test_plots_in_korean_have_korean_hover_legend_and_axis_text():
    with i18n.language("ko"):
        figs = figures()
    for name, fig in figs.items():
        texts = figure_texts(fig)
        hovers = [t for t in texts if "%{" in t]
        assert hovers, name
        assert all(re.search(r"[가-힣]", h) for h in hovers if re.search(r"[A-Za-z]{3}", h)), (name, hovers)
        assert not english_words(texts), (name, english_words(texts))
    confusion = figs["confusion"].to_plotly_json()["data"][0]
    assert confusion["x"][0] == "티셔츠/탑" and "정답 %{y}" in confusion["hovertemplate"]
    assert "%{customdata[0]:.1%}" in figs["sweep"].data[0].hovertemplate  # plotly's placeholders survive


def test_plots_in_english_keep_their_english_hover_text():
    with i18n.language("en"):
        figs = figures()
    assert figs["training_curve"].data[0].hovertemplate == "step %{x}<br>loss %{y:.4f}<extra></extra>"
    assert "true %{y}<br>predicted %{x}" in figs["confusion"].data[0].hovertemplate
    assert figs["confusion"].data[0].x[0] == "T-shirt/top"


def test_class_names_display_in_korean_but_data_stays_english():
    assert FASHION_CLASSES[0] == "T-shirt/top" and FASHION_CLASSES[9] == "Ankle boot"
    with i18n.language("ko"):
        assert [class_label(c) for c in ("T-shirt/top", "Trouser", "Ankle boot")] == ["티셔츠/탑", "바지", "앵클 부츠"]
        assert class_label("cat") == "고양이"
        assert class_label("Seed") == "Seed"  # an uploaded folder's name is never looked up in the catalog
    assert class_label("Bag") == "Bag"


def test_upload_rejection_reasons_are_translated_when_shown():
    from resnet_core.data.uploads import UploadError, load_image_zip

    with pytest.raises(UploadError) as info:
        load_image_zip(b"")
    assert str(info.value) == "the upload is empty"  # tests and logs read English
    with i18n.language("ko"):
        assert str(info.value) == "업로드가 비어 있습니다"  # the page shows it in the reader's language
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.png", b"x")
    with pytest.raises(UploadError) as info:
        load_image_zip(buf.getvalue())
    with i18n.language("ko"):
        assert "폴더 밖으로 빠져나가는 경로" in str(info.value) and "'../evil.png'" in str(info.value)


def test_job_messages_speak_the_starters_language():
    from resnet_core.serving.jobs import Job, JobState

    def slow(job):
        while not job.should_stop():
            time.sleep(0.01)

    with i18n.language("ko"):
        job = Job(slow, time_limit=0.05).start()
    job.wait(10)
    assert job.state == JobState.TIME_LIMIT and job.error.startswith("중지됨: 시간 제한"), job.error
    english = Job(slow, time_limit=0.05).start()
    english.wait(10)
    assert english.error.startswith("stopped: time limit"), english.error


def test_a_diverged_run_is_reported_in_the_starters_language():
    """Home's "lr 1000" demo: the divergence sentence a Korean class sees is Korean; the command line's (and the
    result files it writes) stay English."""
    from resnet_core.models import build_cifar_net
    from resnet_core.serving.jobs import Job, JobState
    from resnet_core.training.engine import TrainConfig, seeded, train

    def diverge(job):
        model = seeded(lambda: build_cifar_net(8, residual=False, num_classes=10), 0)
        return train(
            model, data, TrainConfig(epochs=1, batch_size=32, lr=1000.0, log_every=2), device=torch.device("cpu")
        )

    from resnet_core.data.datasets import load_dataset, stratified_kshot

    bundled = load_dataset("bundled").train
    data = bundled.subset(stratified_kshot(bundled.labels, 10, seed=0))
    with i18n.language("ko"):
        job = Job(diverge).start()
    assert job.wait(60)
    assert job.state == JobState.DIVERGED and "스텝에서 발산" in job.error and "학습률" in job.error, job.error
    english = Job(diverge).start()
    assert english.wait(60)
    assert english.error.startswith("diverged at step") and "try a lower learning rate" in english.error
