"""Dataset loading and splitting, with numpy and scikit-learn only."""

from __future__ import annotations

import numpy as np
import pytest

from evolve.data import DatasetError, DataSpec, prepare

pytestmark = pytest.mark.unit  # the whole file: no TensorFlow, no worker processes


def test_digits_split_is_stratified_seeded_and_disjoint():
    a = prepare(DataSpec("digits", validation_split=0.2, test_split=0.2, split_seed=0))
    assert a.input_shape == (8, 8, 1) and a.num_classes == 10
    assert len(a.x_train) + len(a.x_val) + len(a.x_test) == 1797
    # raw pixels (0..16); the model's first layer rescales them by the training maximum
    assert a.x_train.min() >= 0.0 and a.x_train.max() == 16.0 and a.preprocessing.scale == 1 / 16
    for part in (a.y_train, a.y_val, a.y_test):  # every class in every split, in proportion
        counts = np.bincount(part, minlength=10) / len(part)
        assert counts.min() > 0.08 and counts.max() < 0.12
    b = prepare(DataSpec("digits", split_seed=0))
    assert np.array_equal(a.x_val, b.x_val)
    flat = lambda x: {row.tobytes() for row in x}  # noqa: E731
    assert not flat(a.x_test) & flat(a.x_val) - flat(a.x_train)


def save(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def test_npz_with_and_without_a_test_split(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (60, 6, 6), dtype=np.uint8)
    y = np.repeat([3, 7, 9], 20)
    own = prepare(
        DataSpec(save(tmp_path / "a.npz", x_train=x, y_train=y, x_test=x[:9], y_test=y[:9]))
    )
    assert len(own.x_test) == 9 and own.num_classes == 3 and own.preprocessing.scale == 1 / own.x_train.max()
    assert set(np.unique(own.y_train)) == {0, 1, 2}  # labels 3, 7, 9 become 0, 1, 2
    carved = prepare(DataSpec(save(tmp_path / "b.npz", x_train=x, y_train=y[:, None])))
    assert len(carved.x_test) == 12 and carved.input_shape == (6, 6, 1)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((4, 2, 2))}, r"has no 'x_train' array \(found: x\)"),
        (
            {"x_train": np.zeros((10, 4, 4)), "y_train": np.zeros(9)},
            "y_train has 9 labels but there are 10 images",
        ),
        ({"x_train": np.zeros(10), "y_train": np.arange(10) % 2}, "x_train must have shape"),
        (
            {
                "x_train": np.zeros((10, 4, 4)),
                "y_train": np.zeros(10),
                "x_test": np.zeros((2, 4, 4)),
            },
            "both x_test and y_test",
        ),
        ({"x_train": np.zeros((10, 4, 4)), "y_train": np.zeros(10)}, "single class"),
    ],
)
def test_bad_npz_files(tmp_path, arrays, message):
    with pytest.raises(DatasetError, match=message):
        prepare(DataSpec(save(tmp_path / "bad.npz", **arrays)))


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DatasetError, match="dataset file not found"):
        prepare(DataSpec(str(tmp_path / "none.npz")))
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(DatasetError, match=r"is not a readable \.npz file"):
        prepare(DataSpec(str(tmp_path / "junk.npz")))
    with pytest.raises(DatasetError, match="unknown dataset 'imagenet'"):
        prepare(DataSpec("imagenet"))
