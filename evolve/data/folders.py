"""A folder of images, one sub-folder per class, split by file and streamed from disk.

The layout is that of ``keras.utils.image_dataset_from_directory``: ``root/<class>/...`` with
images (jpg, jpeg, png, bmp, gif; any case) anywhere below each class folder; classes in
sorted order; hidden folders and files (``.name``) and sub-folders without images are
skipped.

Why not ``image_dataset_from_directory`` itself: it splits only in two (``validation_split``
with ``subset="training" | "validation" | "both"``), so a third, test part would have to be cut
from one of them by batches (``take`` / ``skip``), which is neither stratified nor disjoint
per class; and it lists the folder through TensorFlow, which the parent process must not
import. So the FILE LIST is listed here with ``os`` only, split three ways (stratified,
seeded: no leakage, and it repeats), and each part becomes its own ``tf.data`` pipeline on
demand (``image_stream``), doing what Keras' loader does: read, ``decode_image`` without
animations, bilinear resize to ``image_size``, batch, prefetch; the training stream's file
order is reshuffled each epoch with the seed. Only file names are held in memory, so a dataset
larger than memory works.

When the folder is prepared, every file is opened and verified by Pillow once (read, not
decoded, nothing kept): a file that is not a readable image is refused by name before anything
trains. A file Pillow accepts but TensorFlow cannot decode fails the genomes that read it, with
TensorFlow's error as the reason (never skipped silently).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from evolve.data.preprocessing import ImagePreprocessing
from evolve.data.spec import DatasetError, DataSpec
from evolve.data.splits import FolderSplits
from evolve.data.targets import plan, resolve

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def _is_image(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def list_images(root: Path) -> tuple[list[str], list[str]]:
    """(paths, class names) of every image under ``root``'s class sub-folders, sorted by class
    then path. Raises ``DatasetError`` when there are no images in class folders, or images
    of a single class."""
    files: list[str] = []
    labels: list[str] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise DatasetError(f"cannot list the image folder {root}: {exc.strerror}") from None
    loose = 0
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            loose += _is_image(entry.name)
            continue
        found: list[str] = []
        for here, dirs, names in os.walk(entry.path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found.extend(os.path.join(here, n) for n in names if _is_image(n))
        files.extend(sorted(found))
        labels.extend([entry.name] * len(found))
    kinds = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
    if not files and loose:
        raise DatasetError(
            f"{root} holds {loose} image(s) but no class sub-folders with images: put the "
            "images of each class in a sub-folder named after the class"
        )
    if not files:
        raise DatasetError(
            f"{root} holds no images ({kinds}) in class sub-folders; expected one sub-folder "
            "of images per class"
        )
    names = sorted(set(labels))
    if len(names) < 2:
        raise DatasetError(
            f"{root} holds images of a single class ('{names[0]}'); at least two class "
            "sub-folders with images are needed"
        )
    _check_readable(files)
    return files, labels


def _check_readable(files: list[str]) -> None:
    """``DatasetError`` naming the images Pillow cannot open or verify (a truncated or
    corrupt file would otherwise fail every genome at its first epoch). Reads each file once,
    without decoding its pixels; nothing is kept in memory."""
    from PIL import Image

    bad: list[str] = []
    for path in files:
        try:
            with Image.open(path) as image:
                image.verify()
        except Exception as exc:
            bad.append(f"{path} ({type(exc).__name__}: {' '.join(str(exc).split())[:80]})")
    if bad:
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        raise DatasetError(
            f"{len(bad)} image(s) cannot be read: {bad[0]}{more}; remove or replace them"
        )


def prepare_folder(root: Path, spec: DataSpec) -> FolderSplits:
    """List, check and split an image folder without reading an image or importing
    TensorFlow. Raises ``DatasetError`` (see ``list_images``; a class with too few images
    for the stratified splits; task ``regression``)."""
    files, labels = list_images(root)
    label = f"the class folders of {root}"
    targets = resolve({label: np.asarray(labels)}, {label: len(files)}, spec.task, noun="image")
    train, val, test = plan(
        len(files), targets, spec, train=label, test_given=False, val_given=False, noun="image"
    )
    assert val is not None and test is not None
    codes = targets.parts[label]
    channels = 3 if spec.color_mode == "rgb" else 1
    shape = (*spec.image_size, channels)

    def pick(idx: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
        return tuple(files[i] for i in idx), codes[idx]

    (train_files, train_labels), (val_files, val_labels), (test_files, test_labels) = (
        pick(train), pick(val), pick(test)
    )  # fmt: skip
    return FolderSplits(
        task=targets.task,
        num_outputs=targets.num_outputs,
        classes=targets.classes,
        preprocessing=ImagePreprocessing(shape, 1.0 / 255.0),
        root=str(root),
        train_files=train_files,
        train_labels=train_labels,
        val_files=val_files,
        val_labels=val_labels,
        test_files=test_files,
        test_labels=test_labels,
    )


def image_stream(
    files: tuple[str, ...],
    labels: np.ndarray,
    shape: tuple[int, ...],
    batch_size: int,
    seed: int | None = None,
) -> Any:
    """A ``tf.data.Dataset`` of (images (B, H, W, C) float32 with raw values 0..255, labels
    (B,)) read from ``files``; ``shape`` is (H, W, C) with C 3 (rgb) or 1 (grayscale). With a
    ``seed``, the file order is reshuffled each epoch (deterministically for that seed).
    Imports TensorFlow."""
    import tensorflow as tf

    height, width, channels = shape

    def load(path: Any, label: Any) -> tuple[Any, Any]:
        # channels=3 decodes every format (GIF and BMP refuse 1); grey then comes from RGB,
        # exactly for images that are grey already.
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        if channels == 1:
            image = tf.image.rgb_to_grayscale(image)
        image = tf.image.resize(image, (height, width))
        image.set_shape((height, width, channels))
        return image, label

    ds = tf.data.Dataset.from_tensor_slices((list(files), np.asarray(labels)))
    if seed is not None:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
