"""``python -m resnet_core transfer`` and ``pretrain-source``: the transfer comparison and its source networks."""

from __future__ import annotations

import argparse
from pathlib import Path

from resnet_core.checkpoints import CHECKPOINT_DIR
from resnet_core.data import datasets as data_mod
from resnet_core.data.datasets import FASHION_CLASSES
from resnet_core.provenance import write_json
from resnet_core.transfer.config import SOURCES, STRATEGIES, TARGETS, TransferConfig, draw_split, source_name
from resnet_core.transfer.report import config_notes, contract_dict, describe_pair, overall_verdict
from resnet_core.transfer.result import TransferResult, paired_differences, summarize
from resnet_core.transfer.run import run_transfer
from resnet_core.transfer.source import pretrain_source
from resnet_core.validation import add_common, print_progress


def _cmd_pretrain(args: argparse.Namespace) -> int:
    from resnet_core.training.devices import describe_device, pick_device

    device = pick_device(args.device)
    out = args.out or CHECKPOINT_DIR / f"{source_name(args.split_seed)}.pt"
    classes = [FASHION_CLASSES[c] for c in draw_split(args.split_seed)[0]]
    print(
        f"pretraining the transfer source (resnet{args.depth}, width {args.width}) on {args.dataset} classes "
        f"{classes} for {args.epochs} epochs on {describe_device(device).describe()}",
        flush=True,
    )
    record = pretrain_source(
        device=device,
        depth=args.depth,
        width=args.width,
        epochs=args.epochs,
        seed=args.seed,
        dataset=args.dataset,
        max_steps=args.max_steps,
        per_class=args.per_class,
        out=out,
        manifest=not args.no_manifest,
        on_progress=print_progress,
        split_seed=args.split_seed,
    )
    print(
        f"source test accuracy {record['test_acc']:.4f} ({record['test_data']}); bundled "
        f"{record['bundled_test_acc']:.4f}; {record['train_seconds']:.1f}s; saved {out}"
    )
    if args.json:
        write_json(args.json, record)
    return 0 if record["status"] == "done" else 3


def _parse_list(text: str, cast=int) -> list:
    return [cast(x) for x in text.split(",") if x.strip()]


def _parse_shots(text: str) -> list[int | None]:
    return [None if x.strip().lower() in ("all", "none") else int(x) for x in text.split(",") if x.strip()]


def config_from_args(args: argparse.Namespace) -> TransferConfig:
    return TransferConfig(
        source=args.source,
        target=args.target,
        split_seed=args.split_seed,
        shots=_parse_shots(args.shots),
        strategies=_parse_list(args.strategies, str),
        seeds=_parse_list(args.seeds),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr_head=args.lr_head,
        lr_backbone=args.lr_backbone,
        lr_scratch=args.lr_scratch,
        weight_decay=args.weight_decay,
        augment=not args.no_augment,
        feature_views=args.feature_views,
        dropout=args.dropout,
        bn_mode=args.bn_mode,
        staged_head_epochs=args.staged_head_epochs,
        early_stopping=args.early_stopping,
        patience=args.patience,
        val_per_class=args.val_per_class,
        test_per_class=args.test_per_class,
        image_size=args.image_size,
        min_epoch_images=args.min_epoch_images,
        download_weights=args.download_weights,
    )


def print_summary(result: TransferResult) -> None:
    """Mean ± sd over seeds with the test-set SE, the paired differences and the verdicts (or why there are none)."""
    print("\ntest accuracy: mean ± sd over seeds [test-set SE of one run]:")
    for row in summarize(result.results):
        sd = f"{row['test_acc_std']:.4f}" if row["n_seeds"] > 1 else "–     "
        print(
            f"  k={row['shots']!s:<4} {row['strategy']:<28} {row['test_acc_mean']:.4f} ± {sd} "
            f"[SE {row['test_se']:.4f}, n={row['test_images']}] (seeds {len(row['seeds'])}, "
            f"{row['train_seconds_mean']:.1f}s/run)"
        )
    status = result.status
    print("\npaired differences (a − b per seed, 95% t-interval over seeds):")
    for d in paired_differences(result.results):
        print(f"  k={d['shots']!s:<4} " + describe_pair(d, status).replace("**", ""))
    for k in sorted({r.shots for r in result.results}, key=lambda k: k or 10**9):
        call = overall_verdict(result, k)
        if call["verdict"] == "winner":
            line = f"winner: {call['best']} (beats {', '.join(call['beaten'])} with 95% intervals above 0)"
        elif call["verdict"] == "tie":
            line = f"tie: best mean {call['best']}, not separated from {', '.join(call['tied'])}"
        else:
            line = f"no verdict ({call['reason']}); best mean {call['best']}"
        print(f"k={k}: {line}")
    cfg = TransferConfig.from_dict(result.config)
    for note in config_notes(cfg):
        print(f"note: {note}")


def _cmd_transfer(args: argparse.Namespace) -> int:
    from resnet_core.training.devices import describe_device, pick_device

    device = pick_device(args.device)
    config = config_from_args(args)
    runs = len(config.shots) * len(config.seeds) * len(config.strategies)
    print(
        f"transfer: {runs} runs ({', '.join(config.strategies)}; shots {config.shots}; seeds {config.seeds}; "
        f"split seed {config.split_seed}) from {config.source} on {describe_device(device).describe()}",
        flush=True,
    )

    def on_partial(partial: TransferResult) -> None:
        r = partial.results[-1]
        print(
            f"  [{len(partial.results)}/{runs}] {r.strategy:<28} k={r.shots!s:<4} seed {r.seed}: test "
            f"{r.test_acc:.4f} ± {r.test_se:.4f}  best val {r.best_val_acc:.4f}  {r.train_seconds:.1f}s  "
            f"({r.trainable_params:,} trainable, {r.status})",
            flush=True,
        )
        if args.json:  # keep what is done on disk, so a long sweep can be inspected (and survives a kill)
            write_json(args.json, contract_dict(partial))

    result = run_transfer(config, device=device, on_partial=on_partial, source_checkpoint_path=args.checkpoint)
    print_summary(result)
    if args.json:
        write_json(args.json, contract_dict(result))
        print(f"wrote {args.json}")
    return 0 if result.status == "done" else 3


def register(subparsers: argparse._SubParsersAction) -> None:
    d = TransferConfig()
    p = subparsers.add_parser("transfer", help="scratch vs feature extraction vs fine-tuning on held-out classes")
    add_common(p)
    p.add_argument("--shots", default="20", help="labelled images per class, comma-separated for a sweep ('all' = all)")
    p.add_argument("--strategies", default=",".join(d.strategies), help=f"comma-separated, from {','.join(STRATEGIES)}")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (data draw, head init, order)")
    p.add_argument(
        "--split-seed",
        type=int,
        default=d.split_seed,
        help="draw the 6 source / 4 target classes with this seed (default: the hand-picked split)",
    )
    p.add_argument("--source", choices=SOURCES, default=d.source)
    p.add_argument("--target", choices=[t for t in TARGETS if t != "upload"], default=d.target)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--min-epoch-images", type=int, default=d.min_epoch_images)
    p.add_argument("--lr-head", type=float, default=d.lr_head)
    p.add_argument("--lr-backbone", type=float, default=d.lr_backbone)
    p.add_argument("--lr-scratch", type=float, default=d.lr_scratch)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--no-augment", action="store_true", help="no augmentation for any strategy")
    p.add_argument(
        "--feature-views",
        type=int,
        default=d.feature_views,
        help="augmented views cached per image for feature extraction / staged's head phase (0 = clean)",
    )
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--bn-mode", choices=["frozen", "train"], default=d.bn_mode)
    p.add_argument("--staged-head-epochs", type=int, default=d.staged_head_epochs)
    p.add_argument("--early-stopping", action="store_true")
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--val-per-class", type=int, default=d.val_per_class)
    p.add_argument("--test-per-class", type=int, default=None)
    p.add_argument("--image-size", type=int, default=d.image_size, help="ImageNet sources: resize to this")
    p.add_argument("--download-weights", action="store_true", help="ImageNet sources: download if absent")
    p.add_argument("--checkpoint", type=Path, default=None, help="source checkpoint (default: the split's shipped one)")
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=_cmd_transfer)

    p = subparsers.add_parser(
        "pretrain-source", help="pretrain the transfer-learning source net on 6 Fashion-MNIST classes"
    )
    add_common(p)
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--per-class", type=int, default=None, help="train on this many images of each source class")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--split-seed",
        type=int,
        default=None,
        help="draw 6 source / 4 target classes with this seed (default: the hand-picked split)",
    )
    p.add_argument("--dataset", choices=sorted(data_mod.DATASETS), default="fashion")
    p.add_argument("--out", type=Path, default=None, help="default: assets/checkpoints/<source name of the split>.pt")
    p.add_argument("--no-manifest", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=_cmd_pretrain)
