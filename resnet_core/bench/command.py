"""``bench`` subcommand: the engine against a tutorial-style loop, side by side (resnet_core.bench.run), as a table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from resnet_core.bench.config import BenchConfig
from resnet_core.bench.result import BenchResult
from resnet_core.bench.run import TUTORIAL, run_bench
from resnet_core.provenance import write_json
from resnet_core.training.devices import pick_device
from resnet_core.validation import add_common


def format_table(result: BenchResult) -> str:
    cfg = result.config
    lines = [
        f"device: {result.device_label}; torch threads {result.threads}; model {cfg['model']}, batch "
        f"{cfg['batch_size']}, {cfg['steps']} steps per row ({cfg['warmup']} warm-up steps excluded), "
        f"{cfg['repeats']} repeat(s); engine fast path here: {result.numerics}",
        "",
    ]
    head = f"{'':<40} {'img/s':>9} {'spread':>15} {'x tutorial':>11} {'peak MB':>9}"
    lines += [head, "-" * len(head)]
    for row in result.rows:
        spread = ""
        if len(row.get("img_per_s_all", [])) > 1:
            spread = f"{min(row['img_per_s_all']):.0f}-{max(row['img_per_s_all']):.0f}"
        elif "seconds" in row:
            spread = f"{row['seconds']:.1f} s total"
        ratio = f"{row['vs_tutorial']:.2f}x" if row.get("vs_tutorial") else ""
        lines.append(f"{row['name']:<40} {row['img_per_s']:>9.0f} {spread:>15} {ratio:>11} {row['peak_mem_mb']:>9.0f}")
    lines.append("")
    if result.speedup_vs_tutorial is not None:
        per = ", ".join(f"{s:.2f}" for s in result.speedup_all)
        lines.append(f"engine vs tutorial: {result.speedup_vs_tutorial:.2f}x (per repeat: {per})")
    tut = next((r for r in result.rows if r["name"] == TUTORIAL), None)
    if tut and "data_fraction" in tut:
        lines.append(
            f"tutorial loop: {100 * tut['data_fraction']:.0f}% of its steady-state time waits for the DataLoader"
        )
    if result.feature_cache_speedup is not None:
        lines.append(
            f"cached features vs recomputing the frozen backbone ({cfg['head_epochs']} head epochs): "
            f"{result.feature_cache_speedup:.1f}x"
        )
    if result.speedup_vs_tutorial_numerics is not None:
        lines.append(
            f"engine vs the tutorial loop with the same numerics: {result.speedup_vs_tutorial_numerics:.2f}x "
            "(the rest of the gain is the data pipeline and the per-step sync)"
        )
    if result.cuda_flags:
        lines.append("CUDA flags: " + ", ".join(f"{k}={v}" for k, v in result.cuda_flags.items()))
    if result.page_rows:
        from resnet_core.bench.pages import format_page_rows

        lines += ["", *format_page_rows(result.page_rows)]
    if result.profile:
        lines += ["", "engine profile (top ops by self time):"]
        lines += [f"  {p['op']:<45} {p['self_ms']:>9.1f} ms {p['percent']:>5.1f}%" for p in result.profile]
    return "\n".join(lines)


def cmd_bench(args: argparse.Namespace) -> int:
    device = pick_device(args.device)
    config = BenchConfig(
        model=args.model,
        steps=args.steps,
        warmup=args.warmup,
        batch_size=args.batch_size,
        repeats=args.repeats,
        threads=args.threads,
        workers=args.workers,
        dataset=args.dataset,
        compile=args.compile,
        compile_mode=args.compile_mode,
        tf32=args.tf32,
        pages=not args.no_pages,
        page_repeats=args.page_repeats,
        features=not args.no_features,
        head_epochs=args.head_epochs,
        feature_images=args.feature_images,
        profile=args.profile,
        seed=args.seed,
    )
    result = run_bench(config, device=device, on_progress=lambda line: print(line, flush=True))
    print()
    print(format_table(result))
    if args.json:
        write_json(args.json, result.to_dict())
        print(f"\nwrote {args.json}")
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("bench", help="time the engine against a tutorial-style DataLoader loop, side by side")
    add_common(p)
    p.add_argument("--model", default="resnet20", help="resnetD or plainD (D = 6n+2)")
    p.add_argument("--steps", type=int, default=None, help="training steps per row (default 20 on CPU, 200 on CUDA)")
    p.add_argument("--warmup", type=int, default=None, help="steps left out of the timing (default 5 CPU, 50 CUDA)")
    p.add_argument("--batch-size", type=int, default=None, help="default 128 on CPU, 512 on CUDA")
    p.add_argument("--repeats", type=int, default=5, help="run every row this many times in turn (median, spread)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads for the whole run")
    p.add_argument(
        "--workers", type=int, default=None, help="DataLoader workers of the tutorial loop (default 4 CUDA, 0 CPU)"
    )
    p.add_argument("--dataset", default="bundled")
    p.add_argument("--compile", action="store_true", help="add an engine + torch.compile row")
    p.add_argument("--compile-mode", default=None, help="torch.compile mode (default reduce-overhead on CUDA)")
    p.add_argument("--tf32", action="store_true", help="CUDA: allow TF32 (the fp32 rows are then TF32)")
    p.add_argument("--no-pages", action="store_true", help="skip the page-default rows (transfer, gradients, ...)")
    p.add_argument(
        "--page-repeats", type=int, default=None, help="repeats of each page-default row (default: --repeats)"
    )
    p.add_argument("--no-features", action="store_true", help="skip (c), the cached-features comparison")
    p.add_argument("--head-epochs", type=int, default=10)
    p.add_argument("--feature-images", type=int, default=None, help="images for (c) (default 1,000 CPU, all CUDA)")
    p.add_argument("--profile", action="store_true", help="torch.profiler over a few engine steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="write the result (rows, ratios, provenance) here")
    p.set_defaults(func=cmd_bench)
