"""The mutation check's list (run by ``scripts/mutation_check.py``): each entry a small, realistic bug in one named
mechanism behind a claim the lab prints, the exact snippet it edits, and the tests that must catch it. It lives
beside the tests because it says which test guards which claim; add an entry when you add a guard.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutation:
    name: str
    mechanism: str  # the mechanism it breaks, and the claim that would then be printed wrongly
    file: str  # relative to the repository root
    old: str  # must occur exactly once in the file
    new: str
    tests: tuple[str, ...]  # pytest node ids that cover the mechanism


def _t(module: str, *names: str) -> tuple[str, ...]:
    return tuple(f"tests/{module}.py::{n}" for n in names)


CG, CD, CA, CT = "test_claims_gradients", "test_claims_degradation", "test_claims_ablation", "test_claims_training"
CX, CS, CC = "test_claims_transfer", "test_claims_safeguards", "test_claims_classroom"

MUTATIONS: tuple[Mutation, ...] = (
    # ------------------------------------------------------------------------------------------- gradient flow
    Mutation(
        "gradients-every-seed-to-any",
        "gradient verdict: 'Seen on every seed' drawn when the residual net helps on any one seed",
        "resnet_core/gradients/report.py",
        "return bool(self.seeds) and all(self.residual_helps(s) for s in self.seeds)",
        "return bool(self.seeds) and any(self.residual_helps(s) for s in self.seeds)",
        _t(CG, "test_seen_on_every_seed_needs_every_seed"),
    ),
    Mutation(
        "gradients-helps-ignores-explosion",
        "gradient verdict: 'counteracts the trend' read as 'more gradient' even where the plain net explodes",
        "resnet_core/gradients/report.py",
        "return r > p if p < 1 else r < p",
        "return r > p",
        _t(CG, "test_counteracting_an_explosion_means_less_gradient_not_more"),
    ),
    Mutation(
        "gradients-vanishes-on-any-seed",
        "gradient words: 'vanishes' when one seed's plain ratio is below 0.1 (the others only shrink)",
        "resnet_core/gradients/report.py",
        'if vals and all(v is not None and v < VANISH for v in vals):\n            return "vanishing"',
        'if vals and any(v is not None and v < VANISH for v in vals):\n            return "vanishing"',
        _t(CG, "test_vanish_and_explode_words_hold_on_every_seed"),
    ),
    Mutation(
        "gradients-explodes-above-one",
        "gradient words: 'explodes' for any plain ratio above 1 instead of above 10",
        "resnet_core/gradients/report.py",
        "if vals and all(v is None or v > EXPLODE for v in vals):  # None: not finite (overflow)",
        "if vals and all(v is None or v > 1 for v in vals):  # None: not finite (overflow)",
        _t(CG, "test_vanish_and_explode_words_hold_on_every_seed"),
    ),
    Mutation(
        "gradients-ratio-inverted",
        "gradient ratio: ||dL/dx|| at the last block / at block 0 (the headline number upside down)",
        "resnet_core/gradients/run.py",
        '"first_last_ratio": _finite(_ratio(input_norms[0], input_norms[-1])),',
        '"first_last_ratio": _finite(_ratio(input_norms[-1], input_norms[0])),',
        _t("test_gradients", "test_layer_and_block_norms_match_direct_autograd")
        + _t(CG, "test_the_measured_verdict_flips_with_the_identity_path"),
    ),
    Mutation(
        "gradients-weight-ratio-not-relative",
        "gradient ratio: the weight-gradient ratio from ||dL/dW|| instead of ||dL/dW|| / ||W||",
        "resnet_core/gradients/run.py",
        "float(c.weight.grad.norm() / c.weight.detach().norm()) if c.weight.grad is not None else 0.0",
        "float(c.weight.grad.norm()) if c.weight.grad is not None else 0.0",
        _t("test_gradients", "test_layer_and_block_norms_match_direct_autograd"),
    ),
    Mutation(
        "shortcut-only-on-downsampling-blocks",
        "shortcuts: a residual block adds its shortcut only where it downsamples (the identity path is gone)",
        "resnet_core/models.py",
        "        if self.residual:\n            out = out + self.shortcut(x)",
        "        if self.residual and self.downsample:\n            out = out + self.shortcut(x)",
        _t("test_models", "test_plain_and_residual_differ_only_in_the_skip_path")
        + _t(CG, "test_the_measured_verdict_flips_with_the_identity_path"),
    ),
    Mutation(
        "deleted-blocks-not-restored",
        "block deletion: a lesion outlives its context, so every later evaluation is of a lesioned net",
        "resnet_core/models.py",
        "        for i, was in zip(indices, previous):\n            model.blocks[i].deleted = was",
        "        for i, was in zip(indices, previous):\n            pass",
        _t("test_models", "test_deleting_a_residual_block_makes_it_its_shortcut_and_is_restored"),
    ),
    # --------------------------------------------------------------------------------------------- degradation
    Mutation(
        "degradation-train-error-on-test-split",
        "degradation: 'training error' scored on the test split instead of the fixed training subset",
        "resnet_core/degradation/run.py",
        'extra_eval={"train_eval": train_eval},',
        'extra_eval={"train_eval": test_set},',
        _t(CD, "test_training_error_is_scored_on_the_fixed_training_subset_in_eval_mode"),
    ),
    Mutation(
        "degradation-train-subset-moves-with-seed",
        "degradation: the 'fixed' training subset is redrawn for every run seed",
        "resnet_core/degradation/run.py",
        "train_eval = train_set.subset(data_mod.stratified_kshot(train_set.labels, k, seed=TRAIN_EVAL_SEED))",
        "train_eval = train_set.subset(data_mod.stratified_kshot(train_set.labels, k, seed=seed))",
        _t(CD, "test_the_scored_training_subset_is_fixed_and_made_of_training_images"),
    ),
    Mutation(
        "eval-in-train-mode",
        "eval-mode scoring: evaluation runs the net in train mode (batch statistics, moving BatchNorm stats)",
        "resnet_core/training/batching.py",
        "    model.eval()\n    images, labels = data.images.to(device), data.labels.to(device)\n",
        "    images, labels = data.images.to(device), data.labels.to(device)\n",
        _t(CD, "test_training_error_is_scored_on_the_fixed_training_subset_in_eval_mode"),
    ),
    Mutation(
        "degradation-verdict-on-any-seed",
        "degradation verdict: 'shows on every seed' when one seed's gap is beyond the margin",
        "resnet_core/degradation/report.py",
        "if gaps and all(g > MARGIN for g in gaps):",
        "if gaps and any(g > MARGIN for g in gaps):",
        _t(CD, "test_degradation_shows_only_when_every_seed_agrees_beyond_the_margin"),
    ),
    Mutation(
        "degradation-better-without-margin",
        "degradation verdict: 'Not seen here: trains *better*' for gaps under the one-point margin (a tie)",
        "resnet_core/degradation/report.py",
        "if gaps and all(g < -MARGIN for g in gaps):",
        "if gaps and all(g < 0 for g in gaps):",
        _t(CD, "test_deeper_plain_nets_training_better_is_not_seen_here_only_beyond_the_margin"),
    ),
    Mutation(
        "degradation-residual-above-by-mean",
        "degradation verdict: residual 'also ends above on every seed' from the mean gap (a tie is not that)",
        "resnet_core/degradation/report.py",
        'elif resid.direction == "worse":',
        "elif resid.interval.mean > 0:",
        _t(CD, "test_the_residual_sentence_follows_its_own_gaps"),
    ),
    Mutation(
        "stats-t-degrees-of-freedom",
        "intervals over seeds: the t quantile of n instead of n - 1 degrees of freedom (too narrow)",
        "resnet_core/stats.py",
        "half = t975(n - 1) * sd / math.sqrt(n)",
        "half = t975(n) * sd / math.sqrt(n)",
        _t(CD, "test_degradation_shows_only_when_every_seed_agrees_beyond_the_margin"),
    ),
    # ------------------------------------------------------------------------------------------ block ablation
    Mutation(
        "ablation-recompute-not-fed",
        "ablation: 're-estimated BatchNorm statistics' label on a run that never feeds the calibration images",
        "resnet_core/ablation/run.py",
        "        bn_images=bn_images,\n",
        "        bn_images=None,\n",
        _t(CA, "test_recompute_mode_feeds_the_calibration_images_to_every_evaluation"),
    ),
    Mutation(
        "ablation-calibration-on-test-split",
        "ablation: BatchNorm statistics re-estimated on test images (the test set leaks into the net)",
        "resnet_core/ablation/lesions.py",
        "    train = data_mod.load_dataset(dataset).train\n",
        "    train = data_mod.load_dataset(dataset).test\n",
        _t(CA, "test_the_calibration_images_are_training_images"),
    ),
    Mutation(
        "ablation-trained-stats-not-restored",
        "ablation: re-estimated statistics outlive the lesion, so later 'raw' numbers are not raw",
        "resnet_core/ablation/lesions.py",
        "            bn.running_mean.copy_(mean)\n            bn.running_var.copy_(var)\n",
        "",
        _t("test_ablation", "test_recomputed_bn_stats_are_restored_and_explain_the_block0_collapse"),
    ),
    Mutation(
        "ablation-barely-from-best-deletion",
        "ablation verdict: ensemble-like 'barely changes' from the best single deletion, not the median",
        "resnet_core/ablation/report.py",
        "drop = 100 * (resid.baseline_acc - statistics.median(accs))",
        "drop = 100 * (resid.baseline_acc - max(accs))",
        _t(CA, "test_barely_changes_rests_on_the_median_deletion_not_the_best"),
    ),
    Mutation(
        "ablation-plain-broken-by-one-deletion",
        "ablation verdict: 'every single deletion breaks' the plain net when one deletion does",
        "resnet_core/ablation/report.py",
        "if max(accs) <= BROKEN:",
        "if min(accs) <= BROKEN:",
        _t(CA, "test_the_plain_net_is_broken_only_when_every_single_deletion_breaks_it"),
    ),
    # --------------------------------------------------------------------------------- training: augmentation
    Mutation(
        "engine-augmentation-never-applied",
        "augmentation: the engine trains on clean images although the config asks for augmentation",
        "resnet_core/training/engine.py",
        "x = prep(images[idx], train_augment=config.augment, pad=config.crop_pad, flip=config.flip)",
        "x = prep(images[idx], train_augment=False, pad=config.crop_pad, flip=config.flip)",
        _t(CT, "test_the_engine_augments_training_batches_when_asked")
        + _t(CD, "test_the_nets_train_on_augmented_images_only_when_the_config_asks"),
    ),
    Mutation(
        "engine-augmentation-always-applied",
        "augmentation: the engine augments although the config turns augmentation off",
        "resnet_core/training/engine.py",
        "x = prep(images[idx], train_augment=config.augment, pad=config.crop_pad, flip=config.flip)",
        "x = prep(images[idx], train_augment=True, pad=config.crop_pad, flip=config.flip)",
        _t(CT, "test_the_engine_trains_on_the_clean_images_when_augmentation_is_off"),
    ),
    Mutation(
        "degradation-config-drops-augment",
        "augmentation: the degradation recipe never hands its augment setting to the engine",
        "resnet_core/degradation/config.py",
        "            augment=self.augment,\n",
        "",
        _t(CD, "test_the_nets_train_on_augmented_images_only_when_the_config_asks"),
    ),
    Mutation(
        "evaluation-augmented",
        "eval-mode scoring: evaluation batches are augmented like training batches",
        "resnet_core/training/batching.py",
        "        x = prep(images[start : start + batch_size])\n",
        "        x = prep(images[start : start + batch_size], train_augment=True)\n",
        _t(CT, "test_evaluation_sees_the_clean_images"),
    ),
    # ------------------------------------------------------------------------------------------- divergence
    Mutation(
        "divergence-step-of-the-host-read",
        "divergence: 'diverged at step N' names the step the host read the loss, not the first bad step",
        "resnet_core/training/engine.py",
        'found = divergence.train_loss(bad, float("nan")) if bad >= 0 else None',
        'found = divergence.train_loss(step, float("nan")) if bad >= 0 else None',
        _t(CT, "test_divergence_is_reported_at_the_step_the_loss_went_non_finite"),
    ),
    Mutation(
        "divergence-first-loss-not-floored",
        "divergence: a fine-tuning run that starts near zero loss is called diverged for rising to 0.5",
        "resnet_core/training/divergence.py",
        "limit = self.factor * max(self.first, FIRST_LOSS_FLOOR)",
        "limit = self.factor * self.first",
        _t(CT, "test_the_blowup_rule_floors_the_first_loss"),
    ),
    # ------------------------------------------------------------------------------ transfer: verdicts, freezing
    Mutation(
        "transfer-normal-quantile",
        "paired intervals: 1.96 instead of the t quantile, so three seeds name a winner where it is a tie",
        "resnet_core/transfer/result.py",
        'half = t95(n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")',
        'half = 1.96 * sd / math.sqrt(n) if n > 1 else float("nan")',
        _t(CX, "test_a_gain_within_the_t_interval_is_a_tie"),
    ),
    Mutation(
        "transfer-pair-winner-by-mean",
        "transfer verdict: a pair's winner from its mean difference, not from its interval excluding 0",
        "resnet_core/transfer/verdicts.py",
        '    if row["low"] > 0:\n        return {"verdict": "a"',
        '    if row["mean"] > 0:\n        return {"verdict": "a"',
        _t(CX, "test_a_gain_within_the_t_interval_is_a_tie"),
    ),
    Mutation(
        "transfer-hurts-named-as-helps",
        "transfer verdict: when scratch beats feature extraction the line still names feature extraction",
        "resnet_core/transfer/report.py",
        '"b": _("**{name}** better").format(name=_name(row["b"])),',
        '"b": _("**{name}** better").format(name=_name(row["a"])),',
        _t(CX, "test_transfer_hurts_names_scratch"),
    ),
    Mutation(
        "transfer-winner-beats-only-some",
        "transfer verdict: the best mean is 'the winner' unless some strategy is significantly better",
        "resnet_core/transfer/verdicts.py",
        'tied = [o for o in others if verdicts[o] != "a"]',
        'tied = [o for o in others if verdicts[o] == "b"]',
        _t(CX, "test_the_best_mean_is_no_winner_unless_it_beats_every_other_strategy"),
    ),
    Mutation(
        "freezing-partial-unfreezes-two-stages",
        "freezing: partial fine-tuning trains the last two stages instead of the last one",
        "resnet_core/transfer/models.py",
        "        trainable_body = [model.body_stages[-1]]\n",
        "        trainable_body = model.body_stages[-2:]\n",
        _t(CX, "test_partial_fine_tuning_through_the_engine_freezes_the_prefix"),
    ),
    Mutation(
        "freezing-frozen-batchnorm-trains",
        "freezing: the frozen layers' BatchNorm runs in train mode and rewrites the source statistics",
        "resnet_core/transfer/models.py",
        "        m.eval()\n        m.dropout.train()\n",
        "        m.train()\n        m.dropout.train()\n",
        _t(CX, "test_partial_fine_tuning_through_the_engine_freezes_the_prefix"),
    ),
    Mutation(
        "feature-extraction-in-train-mode",
        "freezing: feature extraction computes its features in train mode (the backbone's statistics move)",
        "resnet_core/training/frozen.py",
        "    was_training = model.training\n    model.eval()\n",
        "    was_training = model.training\n",
        _t(CX, "test_feature_extraction_trains_only_the_head"),
    ),
    Mutation(
        "early-stopping-tests-the-last-weights",
        "early stopping: the run tests the last epoch's weights, not the best ones it kept",
        "resnet_core/transfer/run.py",
        "    stopper.restore()\n",
        "",
        _t("test_transfer", "test_early_stopping_tests_the_best_weights_not_the_last"),
    ),
    Mutation(
        "early-stopper-keeps-a-view",
        "early stopping: the 'best' weights are views of the live ones, so restoring them restores nothing",
        "resnet_core/transfer/head.py",
        "self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}",
        "self.best_state = {k: v.detach() for k, v in self.model.state_dict().items()}",
        _t("test_transfer", "test_early_stopper_restores_the_best_weights"),
    ),
    # ----------------------------------------------------------------------------------------------- serving
    Mutation(
        "orphan-stops-only-queued-jobs",
        "orphaned jobs: a running job keeps computing after its browser session went away",
        "resnet_core/serving/jobs.py",
        '        if self.orphaned:\n            self.stop("session-ended")',
        '        if self.orphaned and self.state == JobState.QUEUED:\n            self.stop("session-ended")',
        _t(CS, "test_a_running_job_stops_when_its_session_stops_polling"),
    ),
    Mutation(
        "heartbeat-on-the-wall-clock",
        "orphaned jobs: the heartbeat is stamped with the wall clock and compared with the monotonic one",
        "resnet_core/serving/jobs.py",
        "        with self._lock:\n            self._seen[viewer] = time.monotonic()",
        "        with self._lock:\n            self._seen[viewer] = time.time()",
        _t(CS, "test_a_running_job_stops_when_its_session_stops_polling"),
    ),
    Mutation(
        "pixel-budget-not-accumulated",
        "pixel budgets: each image is checked against the whole budget, never against what is left",
        "resnet_core/data/uploads.py",
        "pixels_left=limits.max_total_pixels - pixels,",
        "pixels_left=limits.max_total_pixels,",
        _t(CS, "test_the_pixel_budget_counts_every_image_of_an_upload"),
    ),
    Mutation(
        "checkpoint-verified-once-per-path",
        "checkpoint hashes: a file verified once is trusted even after its bytes change",
        "resnet_core/checkpoints.py",
        "key = (str(path.resolve()), st.st_size, st.st_mtime_ns)",
        "key = (str(path.resolve()),)",
        _t(CS, "test_a_checkpoint_changed_after_its_first_verification_is_refused"),
    ),
    Mutation(
        "checkpoint-never-verified",
        "checkpoint hashes: loading skips the sha256 check of shipped checkpoints",
        "resnet_core/checkpoints.py",
        "    verify_shipped(path)\n    try:\n",
        "    try:\n",
        _t("test_checkpoint_verification", "test_flipped_bytes_are_refused_naming_the_file_and_the_fix"),
    ),
    Mutation(
        "library-hash-ignores-code-version",
        "library hashes: bumping an experiment's code version does not invalidate its results",
        "resnet_core/experiment.py",
        '"code_version": self.code_version, ',
        "",
        _t(CS, "test_the_config_hash_follows_configuration_code_version_and_checkpoints"),
    ),
    Mutation(
        "library-resume-ignores-part-hash",
        "library resume: --resume skips a seed's run made by an older configuration",
        "resnet_core/library/store.py",
        'return bool(rec and rec.get("config_hash") == run.config_hash and self.part_path(run).is_file())',
        "return bool(rec and self.part_path(run).is_file())",
        _t(CS, "test_resume_skips_exactly_the_runs_whose_hash_matches"),
    ),
    Mutation(
        "library-resume-ignores-entry-hash",
        "library resume: --resume skips a whole result made by an older configuration",
        "resnet_core/library/store.py",
        'return bool(rec and rec.get("config_hash") == config_hash and (self.root / rec["file"]).is_file())',
        'return bool(rec and (self.root / rec["file"]).is_file())',
        _t(CS, "test_resume_skips_exactly_the_runs_whose_hash_matches"),
    ),
    # ------------------------------------------------------------------------------ one computation per question
    Mutation(
        "store-keeps-stopped-runs",
        "shared results: a stopped (partial) run is stored and shown as 'computed N min ago with the same settings'",
        "resnet_core/serving/store.py",
        'STORED_STATUSES = ("done", "diverged")',
        'STORED_STATUSES = ("done", "diverged", "cancelled", "running")',
        _t("test_runs", "test_stop_detaches_one_viewer_and_the_run_stops_with_the_last"),
    ),
    Mutation(
        "store-writes-in-place",
        "shared results: a writer killed mid-write leaves half a result where the last whole one was",
        "resnet_core/provenance.py",
        'tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")',
        "tmp = path",
        _t("test_runs", "test_a_writer_killed_mid_write_leaves_the_last_whole_result"),
    ),
    Mutation(
        "store-key-ignores-the-device",
        "shared results: a result computed on one device kind answers a request for another",
        "resnet_core/serving/store.py",
        '{"config_hash": config_hash, "device": device_kind(device), "inputs": dict(inputs or {})}',
        '{"config_hash": config_hash, "device": "any", "inputs": dict(inputs or {})}',
        _t("test_runs", "test_other_settings_seed_or_device_are_other_questions"),
    ),
    Mutation(
        "second-asker-starts-a-second-run",
        "shared runs: an identical request while the first computes starts a computation of its own",
        "resnet_core/serving/runs.py",
        "        live = self.executor.find(request, viewer, lambda run: self._finished(request, run))",
        "        live = None",
        _t("test_runs", "test_the_same_question_twice_is_one_computation_then_a_stored_answer"),
    ),
    Mutation(
        "stop-stops-everyone",
        "shared runs: one viewer's Stop stops the run for every other viewer",
        "resnet_core/serving/jobs.py",
        "        if left == 0 and self.active:",
        "        if self.active:",
        _t("test_runs", "test_stop_detaches_one_viewer_and_the_run_stops_with_the_last"),
    ),
    # ----------------------------------------------------------------------------------- words for the class
    Mutation(
        "claim-reworded-without-translation",
        "translations: a claim reworded in the code and not in the catalog is printed in English to Korean users",
        "resnet_core/degradation/report.py",
        '_("Residual: a tie within seed noise ({gap}).")',
        '_("Residual: a tie within the seed noise ({gap}).")',
        _t(CC, "test_every_printed_claim_exists_in_korean"),
    ),
    Mutation(
        "presenter-identity-ratio-inverted",
        "presenter answers: Home's identity question compares residual / plain, so 'far less' reads 'far more'",
        "resnet_core/serving/classroom.py",
        "ratio = plain / resid if resid > 0 else math.inf",
        "ratio = resid / plain if plain > 0 else math.inf",
        _t(CC, "test_the_identity_answer_follows_the_measured_gradients"),
    ),
    Mutation(
        "presenter-degradation-fixed-answer",
        "presenter answers: the degradation question always reveals 'deeper is worse'",
        "resnet_core/serving/classroom.py",
        "        answer=plain.direction,\n",
        '        answer="worse",\n',
        _t(CC, "test_the_degradation_answer_follows_the_training_errors"),
    ),
    Mutation(
        "presenter-gradient-any-seed",
        "presenter answers: 'the residual net's' when its first block gets 10x more gradient on any seed",
        "resnet_core/serving/classroom.py",
        "if pairs and all(r is not None and (p is None or r > 10 * p) for p, r in pairs):",
        "if pairs and any(r is not None and (p is None or r > 10 * p) for p, r in pairs):",
        _t(CC, "test_the_gradient_answer_follows_the_ratios"),
    ),
    Mutation(
        "presenter-ablation-best-deletion",
        "presenter answers: a net 'barely notices' when its best single deletion is within 3 points",
        "resnet_core/serving/classroom.py",
        "survives[kind] = 100 * (m.baseline_acc - statistics.median(accs)) <= ablation_report.SMALL_DROP",
        "survives[kind] = 100 * (m.baseline_acc - max(accs)) <= ablation_report.SMALL_DROP",
        _t(CC, "test_the_ablation_answer_follows_the_single_deletions"),
    ),
    Mutation(
        "presenter-transfer-best-mean-in-a-tie",
        "presenter answers: the transfer question reveals the best mean as the winner even in a tie",
        "resnet_core/serving/classroom.py",
        'answer = {"winner": verdict["best"], "tie": "tie"}.get(verdict["verdict"])',
        'answer = verdict["best"]',
        _t(CC, "test_the_transfer_answer_follows_the_paired_intervals"),
    ),
)
