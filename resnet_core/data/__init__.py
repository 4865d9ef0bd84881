"""Images for the experiments: ``datasets`` (uint8 image sets, the registry of data sources, splits, k-shot
sampling, on-device augmentation), ``uploads`` (a user's zip of class folders, validated as bounded work),
``image_decode`` (one uploaded image's bytes, within pixel budgets) and ``upload_errors`` (why an upload is
refused, in the user's language)."""
