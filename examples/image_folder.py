"""Evolve a CNN on a folder of images: one sub-folder per class, streamed from disk.

Writes scikit-learn's digits as PNG files (``digits_png/0/0001.png`` ...), then runs the
command-line engine on that folder: images are listed, split with a fixed seed (train,
validation, test), decoded and resized by tf.data while training, and rescaled by a layer
inside the model, so the exported model takes raw pixel values (0-255).

    python examples/image_folder.py [--folder results/digits_png] [--generations 2]

About 3 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_pngs(folder: Path) -> int:
    """The 1,797 digits as 8-bit grayscale PNGs, one sub-folder per class."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for i, (image, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        target = folder / str(label)
        target.mkdir(parents=True, exist_ok=True)
        pixels = (image * 255 / 16).round().astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(target / f"{i:04d}.png")
    return len(digits.images)


CONFIG = """\
[data]
dataset = "{folder}"
image_size = [16, 16]    # the 8x8 digits, upscaled: every image is resized on the fly
color_mode = "grayscale"

[training]
epochs = 8

[search]
population = 6
generations = {generations}

[genes]
layers = {{ type = "int", min = 1, max = 2 }}
filters = {{ type = "choice", values = [16, 32], per_layer = true }}
kernel_size = {{ type = "choice", values = [3, 5] }}
pooling = {{ type = "choice", values = ["max", "avg"], per_layer = true }}
dropout = {{ type = "choice", values = [0.0, 0.25] }}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=str(ROOT / "results" / "digits_png"))
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--out", default=None, help="run directory (default: under results/)")
    args = parser.parse_args()
    folder = Path(args.folder)
    if not folder.exists():
        print(f"wrote {write_pngs(folder)} images to {folder}")
    config = folder.parent / f"{folder.name}.toml"
    config.write_text(CONFIG.format(folder=folder.resolve(), generations=args.generations))
    command = [sys.executable, str(ROOT / "run_evolution.py"), "run", "--config", str(config)]
    if args.out:
        command += ["--out", args.out]
    return subprocess.call(command)


if __name__ == "__main__":
    raise SystemExit(main())
