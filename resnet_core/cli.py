"""Command line: ``python -m resnet_core <command> ...`` — the same functions the app's pages call.

Foundation commands live here (``info``, ``train``, ``download``); each experiment's subcommands live in its
package's ``command`` module (``register(subparsers)``), added through :mod:`resnet_core.registry`; then the
results library's and the bench's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from resnet_core import registry
from resnet_core.bench import command as commands_bench
from resnet_core.checkpoints import (
    CHECKPOINT_DIR,
    MANIFEST_PATH,
    TORCHVISION_WEIGHTS,
    imagenet_weights_available,
    imagenet_weights_file,
    record_in_manifest,
    save_checkpoint,
    shipped_checkpoints,
)
from resnet_core.data import datasets as data_mod
from resnet_core.library import command as commands_library
from resnet_core.models import build_cifar_net, count_parameters
from resnet_core.provenance import provenance, sha256_file, write_json
from resnet_core.training.devices import available_devices, describe_device, pick_device
from resnet_core.training.engine import HYPERPARAMS, TrainConfig, evaluate, seeded, train
from resnet_core.validation import (
    OneLineParser,
    add_common,
    check_sizes,
    harden,
    main_guard,
    one_line,
    print_progress,
)


def cmd_info(args: argparse.Namespace) -> int:
    dev = pick_device(args.device)
    print(
        f"torch {torch.__version__}; devices here: {', '.join(available_devices())}; "
        f"using {dev} — {describe_device(dev).describe()}"
    )
    print("\nDatasets:")
    for row in data_mod.dataset_status():
        mark = "yes" if row["available"] else "no "
        print(
            f"  [{mark}] {row['key']:<8} {row['title']}"
            + ("" if row["available"] else f"\n         to get it: {row['how_to_get']}")
        )
    print("\nShipped checkpoints (assets/checkpoints):")
    ships = shipped_checkpoints()
    if not ships:
        print(
            "  none yet; train one with `python -m resnet_core train ... --out assets/checkpoints/NAME.pt --manifest`"
        )
    for name, e in ships.items():
        acc = e.get("test_acc")
        print(
            f"  {name:<22} test acc {acc:.4f} on {e.get('test_data', '?')}; {e.get('device', '?')}, {e.get('date', '?')}"
            if acc is not None
            else f"  {name}"
        )
    print("\nImageNet weights (torchvision):")
    for arch in TORCHVISION_WEIGHTS:
        if imagenet_weights_available(arch):
            print(f"  [yes] {arch}")
        else:
            print(
                f"  [no ] {arch}: put {imagenet_weights_file(arch).name} in {imagenet_weights_file(arch).parent} "
                "(downloaded automatically where the internet is reachable)"
            )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    device = pick_device(args.device)
    splits = data_mod.load_dataset(args.dataset)
    train_set = splits.train
    if args.train_size:
        train_set = train_set.subset(
            data_mod.stratified_kshot(train_set.labels, args.train_size // train_set.num_classes, seed=args.seed)
        )
    model = seeded(
        lambda: build_cifar_net(
            args.depth,
            residual=not args.plain,
            norm=args.norm,
            activation=args.activation,
            shortcut=args.shortcut,
            in_channels=train_set.channels,
            num_classes=train_set.num_classes,
            width=args.width,
        ),
        args.seed,
    )
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        optimizer=args.optimizer,
        schedule=args.schedule,
        seed=args.seed,
        max_steps=args.max_steps,
        augment=not args.no_augment,
        eval_every_epoch=not args.no_epoch_eval,
    )
    name = model.config.name
    print(
        f"training {name} ({count_parameters(model):,} parameters) on {args.dataset} ({len(train_set):,} images) "
        f"for {args.epochs} epochs on {describe_device(device).describe()}",
        flush=True,
    )
    result = train(model, train_set, config, device=device, test_set=splits.test, on_progress=print_progress)
    if result.status != "done":
        print(f"run {result.status}: {result.message}", file=sys.stderr)
    test = evaluate(model, splits.test, device=device)
    # The accuracy on the bundled test images is what the app (and the tests) can always re-check offline.
    bundled = (
        evaluate(model, data_mod.load_dataset("bundled").test, device=device) if args.dataset != "cifar10" else None
    )
    record = {
        **provenance(seed=args.seed, device=device, data=args.dataset),
        "model": name,
        "net_config": model.config.to_dict(),
        "train_config": config.to_dict(),
        "parameters": count_parameters(model),
        "status": result.status,
        "message": result.message,
        "train_images": len(train_set),
        "test_data": f"{args.dataset} test ({len(splits.test):,} images)",
        "test_acc": test["acc"],
        "test_loss": test["loss"],
        "bundled_test_acc": bundled["acc"] if bundled else None,
        "train_seconds": result.seconds,
        "history": result.history,
    }
    print(
        f"{name}: test accuracy {test['acc']:.4f} ({args.dataset}); "
        f"{'bundled test ' + format(bundled['acc'], '.4f') if bundled else ''}; {result.seconds:.1f}s"
    )
    if args.out:
        out = save_checkpoint(model, args.out, meta={k: v for k, v in record.items() if k != "history"})
        record["checkpoint"] = str(out)
        record["sha256"] = sha256_file(out)
        print(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB, sha256 {record['sha256'][:12]}…)")
        if args.manifest:
            record_in_manifest(out, {k: v for k, v in record.items() if k not in ("history", "checkpoint")})
            print(f"recorded in {MANIFEST_PATH}")
    if args.json:
        write_json(args.json, record)
        print(f"wrote {args.json}")
    return 0 if result.status == "done" else 3


def cmd_download(args: argparse.Namespace) -> int:
    try:
        return _download(args)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError
        print(
            f"error: cannot download {args.what}: the internet is not reachable from here, or the server refused "
            f"({one_line(exc)})",
            file=sys.stderr,
        )
        return 2


def _download(args: argparse.Namespace) -> int:
    if args.what == "fashion":
        print(f"downloaded to {data_mod.download_fashion_mnist()}")
    elif args.what == "cifar10":
        data_mod.load_cifar10(download=True)
        print("CIFAR-10 downloaded to ~/.cache/resnet_lab")
    else:
        from resnet_core.checkpoints import build_imagenet_resnet

        build_imagenet_resnet(args.what, 10, download=True)
        print(f"weights in {imagenet_weights_file(args.what)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m resnet_core", description="ResNet Lab experiments from the shell.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="device, datasets, checkpoints and weights available here")
    add_common(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("train", help="train a CIFAR-style plain or residual net and save it with provenance")
    add_common(p)
    p.add_argument("--depth", type=int, default=20, help="6n+2: 8, 14, 20, 32, 44, 56, 110, ...")
    p.add_argument("--plain", action="store_true", help="no shortcuts (a plain net)")
    p.add_argument("--norm", choices=["batch", "none"], default="batch")
    p.add_argument("--activation", choices=["relu", "tanh", "sigmoid"], default="relu")
    p.add_argument("--shortcut", choices=["A", "B"], default="A")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--dataset", choices=sorted(data_mod.DATASETS), default="bundled")
    p.add_argument("--train-size", type=int, default=None, help="use a stratified subset of this many images")
    p.add_argument("--epochs", type=int, default=HYPERPARAMS["epochs"])
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=HYPERPARAMS["batch_size"])
    p.add_argument("--lr", type=float, default=HYPERPARAMS["lr"])
    p.add_argument("--weight-decay", type=float, default=HYPERPARAMS["weight_decay"])
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="sgd")
    p.add_argument("--schedule", choices=["onecycle", "cosine", "step", "constant"], default=HYPERPARAMS["schedule"])
    p.add_argument("--no-augment", action="store_true")
    p.add_argument(
        "--no-epoch-eval",
        action="store_true",
        help="evaluate on the test set only after the last epoch (saves time on a slow CPU)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="checkpoint file to write")
    p.add_argument(
        "--manifest",
        action="store_true",
        help=f"record the checkpoint in {MANIFEST_PATH.relative_to(CHECKPOINT_DIR.parent.parent)}",
    )
    p.add_argument("--json", type=Path, default=None, help="write the run's record (provenance, history) here")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("download", help="fetch a dataset or ImageNet weights (needs internet)")
    p.add_argument("what", choices=["fashion", "cifar10", *TORCHVISION_WEIGHTS])
    p.set_defaults(func=cmd_download)

    registry.register_commands(sub)
    commands_library.register(sub)
    commands_bench.register(sub)
    return harden(parser)  # parse-time checks of every subcommand's values (resnet_core.validation)


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done, 2 bad input or an error (one line on stderr), 3 a run diverged (or was stopped)."""
    parser = build_parser()
    try:  # a bad value is a one-line error and exit code 2 (returned, so callers and tests get the code)
        args = parser.parse_args(argv)
        check_sizes(parser, args)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    return main_guard(lambda: int(args.func(args) or 0))
