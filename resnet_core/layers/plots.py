"""Figures for "What the layers see": feature-map and filter mosaics, Grad-CAM overlays.

Pure functions: numbers in, plotly figures (or RGB arrays) out. Mosaics are one heatmap (or one image) per figure,
not a subplot per channel, so a 64-channel grid draws in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.data.datasets import class_label
from resnet_core.i18n import gettext as _


def mosaic(maps: np.ndarray, columns: int) -> np.ndarray:
    """[N, H, W] -> one [rows*(H+1)-1, cols*(W+1)-1] array with NaN gaps between tiles."""
    n, h, w = maps.shape
    rows = math.ceil(n / columns)
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = maps[i]
    return out


def feature_grid_figure(
    maps: np.ndarray, channels: Sequence[int], *, title: str, columns: int = 8, tile_px: int = 110
) -> go.Figure:
    """Channels of one stage's output ([C, H, W]) as a grid, each tile scaled to its own maximum."""
    tiles = np.stack([maps[c] / max(float(maps[c].max()), 1e-8) for c in channels])
    grid = mosaic(np.clip(tiles, 0, None), min(columns, len(channels)))
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            colorscale="Viridis",
            showscale=False,
            hoverongaps=False,
            hovertemplate=_("%{z:.2f} of the tile's max") + "<extra></extra>",
        )
    )
    rows = math.ceil(len(channels) / columns)
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(
        title=dict(text=title, font=dict(size=13)),
        height=45 + tile_px * rows,
        margin=dict(l=5, r=5, t=35, b=5),
        template="plotly_white",
    )
    return fig


def filters_figure(weight: np.ndarray, *, title: str, columns: int | None = None, height: int = 300) -> go.Figure:
    """First-layer filters [out, in, k, k] in a square-ish grid: grey tiles for one input channel, RGB for three."""
    out_c, in_c, k, _k2 = weight.shape
    columns = columns or math.ceil(math.sqrt(out_c))
    if in_c == 3:
        w = weight - weight.min((1, 2, 3), keepdims=True)
        w = w / np.maximum(w.max((1, 2, 3), keepdims=True), 1e-8)
        grid = np.stack([mosaic(w[:, c], columns) for c in range(3)], axis=-1)
        fig = go.Figure(go.Image(z=np.nan_to_num(grid, nan=1.0) * 255, hoverinfo="skip"))
    else:
        grid = mosaic(weight[:, 0], min(columns, out_c))
        lim = float(np.nanmax(np.abs(grid)))
        fig = go.Figure(
            go.Heatmap(
                z=grid,
                colorscale="RdBu",
                reversescale=True,
                zmid=0,
                zmin=-lim,
                zmax=lim,
                hoverongaps=False,
                colorbar=dict(title=_("weight"), thickness=10),
            )
        )
        fig.update_yaxes(autorange="reversed")
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(
        title=dict(text=title, font=dict(size=13)),
        height=height,
        margin=dict(l=5, r=5, t=35, b=5),
        template="plotly_white",
    )
    return fig


def heat_rgb(heat: np.ndarray) -> np.ndarray:
    """0..1 -> a jet-like RGB in 0..1 (no colormap library needed)."""
    h = np.clip(heat, 0, 1)[..., None]
    return np.clip(1.5 - np.abs(4 * h - np.array([3.0, 2.0, 1.0])), 0, 1)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """uint8 [C, H, W] image and a [H, W] map in 0..1 -> uint8 [H, W, 3] blend."""
    img = np.asarray(image, dtype=np.float32) / 255
    rgb = np.repeat(img, 3, 0) if img.shape[0] == 1 else img[:3]
    return (
        ((1 - alpha) * rgb.transpose(1, 2, 0) + alpha * heat_rgb(np.asarray(heat)))
        .clip(0, 1)
        .__mul__(255)
        .astype(np.uint8)
    )


def gradcam_figure(result, titles: dict[str, str]) -> go.Figure:
    """One row per image: the image, then each strategy's Grad-CAM (for its own predicted class) over it."""
    n, cols = len(result.indices), 1 + len(result.strategies)
    names = [class_label(c) for c in result.class_names]
    subtitles = []
    for i in range(n):
        subtitles.append(_("true: {name}").format(name=names[result.true[i]]))
        for s in result.strategies:
            p = result.preds[s][i]
            subtitles.append(f"{titles.get(s, s)}: {names[p]} {'✓' if p == result.true[i] else '✗'}")
    fig = make_subplots(
        rows=max(1, n), cols=cols, subplot_titles=subtitles, horizontal_spacing=0.02, vertical_spacing=0.25 / max(1, n)
    )
    for i in range(n):
        img = np.asarray(result.images[i], dtype=np.uint8)
        base = np.repeat(img, 3, 0) if img.shape[0] == 1 else img[:3]
        fig.add_trace(go.Image(z=base.transpose(1, 2, 0), hoverinfo="skip"), row=i + 1, col=1)
        for j, s in enumerate(result.strategies):
            fig.add_trace(
                go.Image(z=overlay(img, np.asarray(result.heatmaps[s][i])), hoverinfo="skip"), row=i + 1, col=j + 2
            )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_annotations(font_size=11)
    fig.update_layout(height=190 * max(1, n) + 40, margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")
    return fig
