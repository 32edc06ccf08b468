"""Saving and loading a run's trained models, and exporting the best one as a SavedModel.

Every place that loads a model of a run comes here (the final test report, ``inspect``,
``export``, a promoted genome continuing from its rung, ``Outcome.best_model``), so a model of
a user's build function finds its custom layers, losses and metrics: the run's build module is
imported first (its ``@keras.saving.register_keras_serializable`` classes register then), and
a class Keras still cannot find is one line naming the module that must be importable.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from evolve.execution.trial import RunDirWriteError, one_line


class ModelLoadError(ValueError):
    """A run's model cannot be loaded here; the message is one line that says what to do."""


class ExportError(OSError):
    """An export could not be written (a full disk, a read-only folder); one line, and nothing
    left behind."""


def import_build_module(family: str) -> str:
    """Import the module of ``family`` when it is a user's ``module:function`` (from the
    current folder too, as the run did); returns why it could not be imported, or ``""``."""
    module, sep, _ = family.partition(":")
    if not sep or not module:
        return ""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(module)
    except Exception as exc:
        return one_line(exc)
    return ""


def load_model(path: str | Path, family: str = "", safe_mode: bool = True) -> Any:
    """``keras.saving.load_model(path)`` after importing the run's build module (``family``,
    ``model.family`` of the run). Raises ``ModelLoadError`` (one line) when the model uses an
    object Keras cannot find (naming the module to make importable) or cannot be read."""
    import keras

    problem = import_build_module(family)
    if Path(path).is_file() and not zipfile.is_zipfile(path):
        raise ModelLoadError(f"cannot load {path}: not a Keras model file (damaged or cut short)")
    try:
        return keras.saving.load_model(path, safe_mode=safe_mode)
    except (TypeError, ValueError, OSError) as exc:
        text = " ".join(str(exc).split())
        if "Could not locate" not in text and "custom_objects" not in text:
            raise ModelLoadError(f"cannot load {path}: {one_line(exc)}") from None
        found = text[text.find("Could not locate"):].split(".")[0] or "a custom object"
        module = family.partition(":")[0]
        if family == "python":
            where = (
                "the run's build function was given in Python: load the model in the script or "
                "notebook that defines its custom objects (keras.saving.custom_object_scope)"
            )
        elif module and ":" in family:
            why = f" (importing it failed: {problem})" if problem else ""
            where = (
                f"its custom objects come from {module}, the run's build module, which must be "
                f"importable here{why}: run from the folder that holds it, or put that folder "
                "on PYTHONPATH, and register them with @keras.saving.register_keras_serializable"
            )
        else:
            where = "register it with @keras.saving.register_keras_serializable"
        raise ModelLoadError(f"cannot load {path}: {found}; {where}") from None


def export_saved_model(source: Path, target: Path, family: str = "") -> dict[str, Any]:
    """Export the model at ``source`` as a TensorFlow SavedModel folder ``target``; returns its
    input contract (``shape`` of one sample, ``dtype``).

    A single-input model's ``serve`` endpoint (and ``serving_default`` signature) takes what
    the ``.keras`` file takes: batches of its input shape, or, where that shape ends in 1 (a
    grayscale channel), without that last axis, as Keras adds it. Any other shape is a Python
    error (``InvalidArgumentError``) that names the expected shape, raised before the network
    runs. A model of several inputs (a table with text columns) keeps Keras' own signature.
    Raises ``ModelLoadError`` when the model cannot be loaded."""
    import keras
    import tensorflow as tf

    model = load_model(source, family)
    if len(model.inputs) != 1:
        written(lambda folder: model.export(folder, format="tf_saved_model", verbose=False), target)
        return {"inputs": [str(i.shape) for i in model.inputs]}
    spec = model.inputs[0]
    shape = tuple(int(d) for d in spec.shape[1:])
    dtype = tf.as_dtype(spec.dtype)
    accepted = [shape] + ([shape[:-1]] if len(shape) > 1 and shape[-1] == 1 else [])
    said = " or ".join(f"(N, {', '.join(map(str, s))})" for s in accepted)

    def serve(x: Any) -> Any:
        x = tf.convert_to_tensor(x)
        if len(accepted) > 1:  # the channel Keras adds to (N, H, W) images
            x = tf.cond(tf.equal(tf.rank(x), len(shape)), lambda: tf.expand_dims(x, -1),
                        lambda: x)  # fmt: skip
        fits = tf.cond(
            tf.equal(tf.rank(x), len(shape) + 1),
            lambda: tf.reduce_all(tf.equal(tf.shape(x)[1:], shape)),
            lambda: tf.constant(False),
        )  # fmt: skip
        check = tf.debugging.Assert(
            fits, [f"this model takes inputs of shape {said}; it was given shape", tf.shape(x)]
        )  # fmt: skip
        with tf.control_dependencies([check]):
            return model(tf.reshape(x, [-1, *shape]), training=False)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve", serve, input_signature=[tf.TensorSpec(shape=None, dtype=dtype, name="inputs")]
    )
    written(lambda folder: archive.write_out(folder, verbose=False), target)
    return {"shape": list(shape), "dtype": dtype.name, "accepted": said}


def written(write: Any, target: Path) -> None:
    """Run ``write(folder)`` into a temporary folder beside ``target``, then rename it to
    ``target``: a SavedModel is there whole or not at all. A write that fails (a full disk)
    leaves nothing behind and raises ``ExportError`` (one line)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        write(str(folder))
        folder.rename(target)
    except Exception as exc:
        raise ExportError(f"cannot write {target}: {one_line(exc)}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def save_model(model: Any, path: Path) -> None:
    """Save ``model`` to ``path`` whole or not at all (a temporary file, then rename); a
    failure is the run directory's (``RunDirWriteError``), never the genome's."""
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        reason = f"cannot save {path.name}: {exc.strerror or exc}"
        raise RunDirWriteError(exc.errno, reason) from exc
