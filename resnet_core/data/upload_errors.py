"""Why an upload is refused: :class:`UploadError` and its messages (see resnet_core.data.uploads).

The messages are English with named ``{fields}`` and are translated when shown, not when raised: ``str(error)``
speaks the language of whoever reads it (the decoding job's thread has no language of its own). Tests match the
English text, so rewording one here changes what they look for.
"""

from __future__ import annotations

from resnet_core.i18n import N_
from resnet_core.i18n import gettext as _

MESSAGES = {
    "absolute_path": N_("the zip contains an absolute path ({name!r}); only relative class folders are allowed"),
    "climbs_out": N_("the zip contains a path that climbs out of its folder ({name!r}); refusing it"),
    "control_chars": N_("the zip contains a name with control characters ({name!r}); rename it"),
    "member_too_large": N_("{name} is larger than {mb:.0f} MB uncompressed; refusing it"),
    "size_mismatch": N_("{name}: the zip says {said:,} bytes but holds {held:,} (a damaged or doctored zip)"),
    "nan_pixels": N_("{name} holds NaN or infinite pixel values; refusing it"),
    "huge_pixels": N_("{name} holds pixel values too large to convert; refusing it"),
    "not_an_image": N_(
        "{name} is not an image in an allowed format ({formats}): corrupt, another format renamed, or not an image at all"
    ),
    "too_many_pixels": N_(
        "{name} is {w}x{h} pixels, more than the {max:,} allowed per image (a decompression bomb, or simply too big: shrink it first)"
    ),
    "total_pixels": N_(
        "the images add up to more than {mpx:,.0f} million decoded pixels (reached at {name}); upload fewer or smaller images"
    ),
    "bad_shape": N_("{name}: decoded to an unexpected shape {shape}"),
    "bomb": N_("{name}: decompression bomb refused ({error})"),
    "corrupt_data": N_(
        "{name}: the zip's data for this file is corrupt (bad CRC, lying sizes or broken compression) ({error})"
    ),
    "unreadable_method": N_("{name}: stored with a compression or encryption method that cannot be read ({error})"),
    "too_large_to_decode": N_("{name}: too large to decode ({error})"),
    "corrupt_image": N_("{name}: a corrupt, truncated or unsupported image ({error})"),
    "symlink": N_("the zip contains a symbolic link ({name!r}); links are not allowed"),
    "duplicate": N_("the zip lists {name!r} twice (duplicate entries are refused: which one would be the image?)"),
    "encrypted": N_("{name} is encrypted; upload an unencrypted zip"),
    "zip_method": N_(
        "{name} is compressed with zip method {method} (e.g. Deflate64 or AES), which cannot be read; re-create the zip with standard Deflate"
    ),
    "upload_too_large": N_("the upload is larger than {mb:.0f} MB"),
    "empty": N_("the upload is empty"),
    "not_a_zip": N_("this is not a readable zip file ({error})"),
    "too_many_entries": N_("the zip holds {n:,} entries; at most {max:,} are allowed"),
    "unpacks_too_large": N_("the zip unpacks to {mb:.0f} MB; at most {max:.0f} MB are allowed"),
    "no_files": N_("the zip has no files in it (apart from folders, junk or README/licence files)"),
    "loose_files": N_("files must be inside one folder per class (e.g. cats/001.png); these are not: {names}"),
    "subfolders": N_("class folders must hold images directly, without subfolders; found {names}"),
    "case_clash": N_(
        "the class folders {a!r} and {b!r} differ only in upper/lower case ({a_ascii} vs {b_ascii}); rename or merge them"
    ),
    "unicode_clash": N_(
        "the class folders {a!r} and {b!r} differ only in Unicode form (NFC vs NFD: the same letters, encoded differently) ({a_ascii} vs {b_ascii}); rename or merge them"
    ),
    "one_class": N_("found {n} class folder ({names}); a classifier needs at least {min}"),
    "too_few_classes": N_("found {n} class folders ({names}); a classifier needs at least {min}"),
    "no_classes": N_("found 0 class folders (none); a classifier needs at least {min}"),
    "too_many_classes": N_("found {n} class folders; at most {max} are allowed"),
    "not_images": N_("these files are not images (allowed: {allowed}): {names}"),
    "cancelled": N_("the upload was cancelled before it finished"),
    "too_slow": N_(
        "decoding the upload took longer than {s:.0f} s (stopped at {name}); upload fewer or smaller images"
    ),
    "unpacked_too_large": N_("the zip unpacks to more than {mb:.0f} MB"),
    "empty_classes": N_("these class folders hold no images: {names}"),
    "too_few_images": N_(
        "every class needs at least {min} images (for training, validation and testing); too few in: {names}"
    ),
}


class UploadError(ValueError):
    """The upload cannot be used; ``str(error)`` says why, in the reader's language. ``key`` names the message
    (a key of :data:`MESSAGES`), ``fields`` fill its placeholders."""

    def __init__(self, key: str, **fields) -> None:
        super().__init__(MESSAGES[key])
        self.key, self.fields = key, fields

    def __str__(self) -> str:
        return _(MESSAGES[self.key]).format(**self.fields)
