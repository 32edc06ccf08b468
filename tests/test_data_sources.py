"""The data layer (evolve.data): every source on small data made here, tasks, splits,
preprocessing statistics, and the errors. Nothing is downloaded.

Tests marked slow import Keras: model_inputs with save / load / predict on raw data, and the
image-folder streams.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from evolve.data import (
    KERAS_DATASETS,
    SKLEARN_DATASETS,
    TASKS,
    ArraySplits,
    DatasetError,
    DataSpec,
    FolderSplits,
    ImagePreprocessing,
    TablePreprocessing,
    prepare,
)
from evolve.settings.config import ConfigError
from support import cli, one_line_exit_2

# --------------------------------------------------------------------------- helpers


def rows(x):
    """Each sample of x (an array or a dict of columns) as a hashable tuple."""
    if isinstance(x, dict):
        return [tuple(str(x[k][i, 0]) for k in sorted(x)) for i in range(len(next(iter(x.values()))))]
    return [row.tobytes() for row in x]


def disjoint(splits):
    parts = [set(rows(splits.x_train)), set(rows(splits.x_val)), set(rows(splits.x_test))]
    return not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def table(n=90, seed=0):
    """A table: two numeric columns, a boolean, a categorical city, and a text label."""
    rng = np.random.default_rng(seed)
    species = np.repeat(["owl", "cat", "dog"], n // 3)
    return pd.DataFrame(
        {
            "weight": rng.normal(10.0, 3.0, n).round(3) + np.arange(n) * 1e-3,  # unique rows
            "age": rng.integers(1, 15, n),
            "tame": rng.random(n) > 0.5,
            "city": rng.choice(["paris", "rome", "oslo", "lima"], n),
            "species": species,
        }
    )


def write_csv(tmp_path, frame, name="t.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def save_npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def image_folder(tmp_path, classes=("cat", "dog", "owl"), per_class=12, size=(10, 12)):
    """One sub-folder of small RGB PNGs per class; pixel values differ per image."""
    root = tmp_path / "images"
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            pixels[..., c % 3] = 200 + i  # a class colour, and no two images alike
            Image.fromarray(pixels).save(root / name / f"{i:02d}.png")
    return root


# --------------------------------------------------------------------------- spec and names


@pytest.mark.unit
def test_spec_is_small_hashable_and_checked():
    spec = DataSpec("digits", image_size=[32, 48])  # a list from TOML becomes a tuple
    assert spec.image_size == (32, 48) and hash(spec) == hash(DataSpec("digits", image_size=(32, 48)))
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert TASKS == ("auto", "classification", "regression")
    assert KERAS_DATASETS == ("mnist", "fashion_mnist", "cifar10")
    assert SKLEARN_DATASETS == ("breast_cancer", "wine", "iris", "diabetes")
    with pytest.raises(DatasetError, match=r"data.task must be one of auto, classification, regression"):
        prepare(DataSpec(task="clustering"))
    with pytest.raises(DatasetError, match=r"data.test_split must be a share in \[0, 1\)"):
        prepare(DataSpec(test_split=1.0))
    with pytest.raises(DatasetError, match=r"data.color_mode must be one of rgb, grayscale"):
        prepare(DataSpec(color_mode="rgba"))
    with pytest.raises(DatasetError, match=r"data.image_size must be two positive integers"):
        prepare(DataSpec(image_size=(0, 4)))


@pytest.mark.unit
def test_unknown_names_and_missing_files(tmp_path):
    with pytest.raises(DatasetError) as err:
        prepare(DataSpec("imagenet"))
    message = str(err.value)
    assert "\n" not in message and message.startswith("unknown dataset 'imagenet' (known: digits, mnist")
    assert "breast_cancer" in message and ".npz, .csv or .parquet file or a folder" in message
    for name in ("none.npz", "none.csv", "none.parquet", "gone/"):
        with pytest.raises(DatasetError, match=f"dataset file not found: {tmp_path / name.rstrip('/')}$"):
            prepare(DataSpec(str(tmp_path / name)))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"must end in \.npz, \.csv or \.parquet"):
        prepare(DataSpec(str(tmp_path / "notes.txt")))


# --------------------------------------------------------------------------- embedded and scikit-learn


@pytest.mark.unit
def test_digits_are_raw_images_split_stratified_seeded_and_disjoint():
    a = prepare(DataSpec("digits", validation_split=0.2, test_split=0.2, split_seed=0))
    assert isinstance(a, ArraySplits) and a.kind == "image" and a.task == "multiclass"
    assert a.input_shape == a.feature_shape == (8, 8, 1)
    assert a.num_classes == a.num_outputs == 10 and a.classes == list(range(10))
    assert a.x_train.dtype == np.float32 and a.x_train.max() == 16.0  # raw: the model rescales
    assert a.preprocessing == ImagePreprocessing((8, 8, 1), 1 / 16)
    sizes = a.describe()
    assert (sizes["train"], sizes["validation"], sizes["test"]) == (1149, 288, 360)
    for part in (a.y_train, a.y_val, a.y_test):  # every class in every split, in proportion
        share = np.bincount(part, minlength=10) / len(part)
        assert share.min() > 0.08 and share.max() < 0.12
    assert disjoint(a)
    b = prepare(DataSpec("digits", split_seed=0))
    assert np.array_equal(a.x_val, b.x_val) and np.array_equal(a.y_test, b.y_test)
    c = prepare(DataSpec("digits", split_seed=1))
    assert not np.array_equal(a.x_val, c.x_val)
    json.dumps(a.describe())


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "task", "outputs", "classes", "features"),
    [
        ("breast_cancer", "binary", 1, ["benign", "malignant"], 30),
        ("wine", "multiclass", 3, ["class_0", "class_1", "class_2"], 13),
        ("iris", "multiclass", 3, ["setosa", "versicolor", "virginica"], 4),
        ("diabetes", "regression", 1, None, 10),
    ],
)
def test_sklearn_tables(name, task, outputs, classes, features):
    s = prepare(DataSpec(name))
    assert (s.kind, s.task, s.num_outputs, s.classes) == ("tabular", task, outputs, classes)
    assert s.input_shape == s.feature_shape == (features,)
    prep = s.preprocessing
    assert isinstance(prep, TablePreprocessing) and not prep.dict_input
    assert np.allclose([c.mean for c in prep.columns], s.x_train.mean(axis=0), rtol=1e-5, atol=1e-6)
    assert np.allclose([c.variance for c in prep.columns], s.x_train.var(axis=0), rtol=1e-4, atol=1e-9)
    if task == "regression":
        assert s.y_train.dtype == np.float32 and s.num_classes is None and "classes" not in s.describe()
    else:
        assert s.y_train.dtype == np.int32 and s.describe()["classes"] == classes
    from sklearn import datasets  # the parts are a partition of the set's rows

    whole = getattr(datasets, f"load_{name}")().data.astype(np.float32)
    assert sorted(rows(np.concatenate([s.x_train, s.x_val, s.x_test]))) == sorted(rows(whole))
    json.dumps(s.describe())


@pytest.mark.unit
def test_regression_asked_with_text_labels_is_an_error():
    with pytest.raises(DatasetError, match="task 'regression' needs numeric targets, but y_train holds text labels"):
        prepare(DataSpec("iris", task="regression"))


# --------------------------------------------------------------------------- CSV and Parquet


@pytest.mark.unit
def test_csv_with_a_categorical_column_and_text_labels(tmp_path):
    frame = table()
    s = prepare(DataSpec(write_csv(tmp_path, frame), split_seed=3))
    assert (s.task, s.num_outputs, s.classes) == ("multiclass", 3, ["cat", "dog", "owl"])
    prep = s.preprocessing
    assert prep.dict_input and [c.name for c in prep.columns] == ["weight", "age", "tame", "city"]
    assert [c.kind for c in prep.columns] == ["numeric"] * 3 + ["categorical"]
    assert s.input_shape == (4,) and s.feature_shape == (3 + 4 + 1,)  # 3 numbers, 4 cities + OOV
    x = s.x_train
    assert set(x) == {"weight", "age", "tame", "city"} and x["city"].shape == (len(s.y_train), 1)
    assert x["weight"].dtype == np.float32 and x["tame"].dtype == np.float32 and x["city"].dtype.kind == "U"
    # statistics and vocabulary come from the training rows only
    weight = prep.columns[0]
    assert weight.mean == pytest.approx(x["weight"].astype(np.float64).mean(), rel=1e-6)
    assert weight.mean != pytest.approx(frame["weight"].mean(), rel=1e-6)
    assert weight.variance == pytest.approx(x["weight"].astype(np.float64).var(), rel=1e-5)
    assert prep.columns[1].mean == pytest.approx(x["age"].mean()) != pytest.approx(frame["age"].mean())
    assert prep.columns[3].vocabulary == tuple(sorted(set(x["city"][:, 0])))
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 90
    assert disjoint(s)
    again = prepare(DataSpec(write_csv(tmp_path, frame), split_seed=3))
    assert np.array_equal(again.x_val["weight"], s.x_val["weight"])
    json.dumps(s.describe())


@pytest.mark.unit
def test_csv_binary_target_by_name_without_categories_is_one_array(tmp_path):
    frame = table().drop(columns=["city"])
    frame["big"] = frame["weight"] > frame["weight"].median()
    s = prepare(DataSpec(write_csv(tmp_path, frame.drop(columns=["species"])), target="big"))
    assert (s.task, s.num_outputs, s.classes) == ("binary", 1, [False, True])
    assert not s.preprocessing.dict_input and s.x_train.shape == (len(s.y_train), 3)
    assert s.x_train.dtype == np.float32


@pytest.mark.unit
def test_csv_regression_and_the_task_rules(tmp_path):
    frame = table().drop(columns=["species"])
    frame["price"] = frame["weight"] * 2.5 + 0.1
    path = write_csv(tmp_path, frame)
    s = prepare(DataSpec(path))
    assert (s.task, s.num_outputs, s.classes) == ("regression", 1, None)
    assert s.y_train.dtype == np.float32 and s.y_train.shape == (len(s.y_train),)
    with pytest.raises(DatasetError) as err:
        prepare(DataSpec(path, task="classification"))
    assert str(err.value).startswith(
        "task 'classification' needs class labels, but target column 'price' holds non-integer values"
    )
    counts = prepare(DataSpec(path, target="age"))  # integers: classes under auto...
    assert counts.task == "multiclass" and counts.classes == sorted(set(frame["age"]))
    assert prepare(DataSpec(path, target="age", task="regression")).task == "regression"


@pytest.mark.unit
def test_parquet_reads_like_csv(tmp_path):
    frame = table()
    frame["when"] = pd.to_datetime("2024-01-01") + pd.to_timedelta(frame.index % 3, unit="D")
    parquet = tmp_path / "t.parquet"
    frame.to_parquet(parquet)
    s = prepare(DataSpec(str(parquet), target="species"))
    csv = prepare(DataSpec(write_csv(tmp_path, frame), target="species"))
    assert s.describe() == csv.describe() and s.classes == ["cat", "dog", "owl"]
    when = s.preprocessing.columns[-1]
    assert when.name == "when" and when.kind == "categorical" and len(when.vocabulary) == 3  # dates: text
    assert np.array_equal(s.x_test["weight"], csv.x_test["weight"])


@pytest.mark.unit
def test_parquet_without_pyarrow(tmp_path, monkeypatch):
    parquet = tmp_path / "t.parquet"
    parquet.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(DatasetError, match=r"needs pyarrow, which is not installed: pip install pyarrow$"):
        prepare(DataSpec(str(parquet)))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda f: f.assign(weight=f["weight"].where(f.index % 30 != 0), city=f["city"].where(f.index != 5)),
            r"has missing values \(NaN or empty\) in 2 column\(s\): weight \(3\), city \(1\); fill or drop them$",
        ),
        (
            lambda f: f.assign(note=[f"note {i}" for i in range(len(f))])[["note", *f.columns]],
            r"column 'note' is text with \d+ distinct values, not categorical \(at most 50\): drop it or encode it$",
        ),
        (lambda f: f[["species"]], r"has 1 column\(s\); a table needs feature columns and a target$"),
        (lambda f: f.assign(species="owl"), r"the labels hold a single class \(owl\); at least two are needed$"),
        (
            lambda f: f.assign(species=["rare"] + ["owl"] * (len(f) - 1)),
            r"class rare has 1 row\(s\): a stratified test split needs at least 2 of each class$",
        ),
    ],
)
def test_bad_tables(tmp_path, edit, message):
    with pytest.raises(DatasetError, match=message) as err:
        prepare(DataSpec(write_csv(tmp_path, edit(table()))))
    assert "\n" not in str(err.value)


@pytest.mark.unit
def test_missing_target_and_unreadable_files(tmp_path):
    path = write_csv(tmp_path, table())
    with pytest.raises(DatasetError) as err:
        prepare(DataSpec(path, target="colour"))
    assert str(err.value) == (
        f"target column 'colour' is not in {path} (columns: weight, age, tame, city, species)"
    )
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00")
    with pytest.raises(DatasetError, match=r"junk.csv is not a readable CSV file \(.*\)$"):
        prepare(DataSpec(str(junk)))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DatasetError, match=r"empty.csv is not a readable CSV file \(No columns to parse"):
        prepare(DataSpec(str(tmp_path / "empty.csv")))
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(DatasetError, match=r"junk.parquet is not a readable Parquet file"):
        prepare(DataSpec(str(tmp_path / "junk.parquet")))


@pytest.mark.unit
def test_auto_takes_integer_quantities_as_classes_and_says_how_to_change_it(tmp_path):
    frame = pd.DataFrame({"x": np.arange(40.0), "count": np.arange(40) * 3})
    with pytest.raises(DatasetError, match=r"set data.task = 'regression'$"):
        prepare(DataSpec(write_csv(tmp_path, frame)))
    assert prepare(DataSpec(write_csv(tmp_path, frame), task="regression")).task == "regression"


# --------------------------------------------------------------------------- .npz


@pytest.mark.unit
def test_npz_with_own_validation_and_test_parts(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (60, 6, 6), dtype=np.uint8)
    y = np.repeat([3, 7, 9], 20)
    path = save_npz(
        tmp_path / "a.npz", x_train=x, y_train=y, x_val=x[:6], y_val=y[:6], x_test=x[6:15], y_test=y[6:15]
    )
    s = prepare(DataSpec(path))
    assert s.describe()["train"] == 60 and len(s.x_val) == 6 and len(s.x_test) == 9  # nothing carved
    assert s.classes == [3, 7, 9] and set(np.unique(s.y_train)) == {0, 1, 2}
    assert np.array_equal(s.x_val[..., 0], x[:6]) and s.input_shape == (6, 6, 1)
    assert s.preprocessing.scale == pytest.approx(1 / x.max())
    carved = prepare(DataSpec(save_npz(tmp_path / "b.npz", x_train=x, y_train=y[:, None])))
    assert (len(carved.x_train), len(carved.x_val), len(carved.x_test)) == (38, 10, 12)
    with pytest.raises(DatasetError, match=r"must hold both x_val and y_val, or neither$"):
        prepare(DataSpec(save_npz(tmp_path / "c.npz", x_train=x, y_train=y, x_val=x)))
    unseen = save_npz(tmp_path / "d.npz", x_train=x, y_train=y, x_val=x[:2], y_val=np.array([3, 4]))
    with pytest.raises(DatasetError, match=r"y_val has 1 class\(es\) the training data never shows \(4\)$"):
        prepare(DataSpec(unseen))


@pytest.mark.unit
def test_npz_tables_one_hot_labels_and_regression(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(5.0, 2.0, (80, 4))
    onehot = np.eye(2)[np.arange(80) % 2]
    s = prepare(DataSpec(save_npz(tmp_path / "t.npz", x_train=x, y_train=onehot)))
    assert (s.kind, s.task, s.num_outputs, s.classes) == ("tabular", "binary", 1, [0, 1])
    assert [c.name for c in s.preprocessing.columns] == ["x0", "x1", "x2", "x3"]
    means = [c.mean for c in s.preprocessing.columns]
    assert np.allclose(means, s.x_train.mean(axis=0), atol=1e-5)
    assert not np.allclose(means, x.mean(axis=0), atol=1e-5)  # not the statistics of all rows
    targets = x @ rng.normal(size=(4, 3)) + 0.5
    r = prepare(DataSpec(save_npz(tmp_path / "r.npz", x_train=x, y_train=targets), test_split=0))
    assert (r.task, r.num_outputs, r.y_train.shape[1:]) == ("regression", 3, (3,))
    assert r.describe()["test"] == 0 and len(r.x_val) == 16
    with pytest.raises(DatasetError, match=r"the dataset has no test part \(data.test_split is 0\)"):
        r.eval_inputs("test")
    assert r.eval_inputs("validation")["x"] is r.x_val


@pytest.mark.unit
@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.zeros((4, 2, 2))}, r"has no 'x_train' array \(found: x\)$"),
        ({"x_train": np.zeros((10, 4, 4)), "y_train": np.zeros(9)}, "y_train has 9 labels but there are 10 images$"),
        ({"x_train": np.zeros((10, 4)), "y_train": np.zeros(8)}, "y_train has 8 labels but there are 10 rows$"),
        ({"x_train": np.zeros((10, 2, 2, 2, 2)), "y_train": np.zeros(10)}, r"x_train must have shape \(N, H, W\)"),
        ({"x_train": np.zeros((10, 4, 4)), "y_train": np.zeros(10), "x_test": np.zeros((2, 4, 4))}, "both x_test and y_test"),
        ({"x_train": np.zeros((10, 4, 4)), "y_train": np.zeros(10)}, "single class"),
        ({"x_train": np.full((10, 3), np.nan), "y_train": np.arange(10) % 2}, "x_train holds 30 non-finite values"),
        ({"x_train": np.zeros((10, 3), complex), "y_train": np.arange(10) % 2}, "x_train must hold real numbers"),
        ({"x_train": np.zeros((0, 3)), "y_train": np.zeros(0)}, "x_train holds no rows"),
        ({"x_train": np.zeros((10, 3)), "y_train": np.array([np.nan] * 10)}, "y_train holds 10 NaN or infinite values"),
        (
            {"x_train": np.zeros((12, 3)), "y_train": np.arange(12) % 2, "x_test": np.zeros((2, 3)), "y_test": [0, 5]},
            r"y_test has 1 class\(es\) the training data never shows \(5\)",
        ),
    ],
)
def test_bad_npz_files(tmp_path, arrays, message):
    with pytest.raises(DatasetError, match=message):
        prepare(DataSpec(save_npz(tmp_path / "bad.npz", **arrays)))


@pytest.mark.unit
def test_unreadable_npz_files(tmp_path):
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(DatasetError, match=r"is not a readable \.npz file"):
        prepare(DataSpec(str(tmp_path / "junk.npz")))
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(DatasetError, match=r"holds one array \(\.npy\)"):
        prepare(DataSpec(str(tmp_path / "one.npz")))
    objects = save_npz(tmp_path / "obj.npz", x_train=np.zeros((4, 2)), y_train=np.array([{}, 1, 2, 3], object))
    with pytest.raises(DatasetError, match="holds 'y_train' as pickled Python objects"):
        prepare(DataSpec(objects))


# --------------------------------------------------------------------------- image folders


@pytest.mark.unit
def test_image_folder_is_listed_and_split_by_file(tmp_path):
    root = image_folder(tmp_path)
    s = prepare(DataSpec(str(root), image_size=(10, 12)))
    assert isinstance(s, FolderSplits) and (s.kind, s.task, s.classes) == ("image", "multiclass", ["cat", "dog", "owl"])
    assert s.input_shape == s.feature_shape == (10, 12, 3) and s.preprocessing.scale == pytest.approx(1 / 255)
    assert s.describe() == {
        "input_shape": [10, 12, 3], "feature_shape": [10, 12, 3], "kind": "image", "task": "multiclass",
        "num_outputs": 3, "num_classes": 3, "classes": ["cat", "dog", "owl"], "train": 22, "validation": 6, "test": 8,
    }  # fmt: skip
    parts = [set(s.train_files), set(s.val_files), set(s.test_files)]
    assert sum(map(len, parts)) == 36 and len(set.union(*parts)) == 36  # disjoint, all files
    for files, labels in (s.files("train"), s.files("validation"), s.files("test")):
        assert [s.classes[i] for i in labels] == [f.split("/")[-2] for f in files]
        assert set(labels) == {0, 1, 2}  # stratified: every class in every part
    assert prepare(DataSpec(str(root), image_size=(10, 12))).val_files == s.val_files
    assert prepare(DataSpec(str(root), split_seed=5)).val_files != s.val_files
    gray = prepare(DataSpec(str(root), image_size=(8, 8), color_mode="grayscale"))
    assert gray.input_shape == (8, 8, 1)
    assert pickle.loads(pickle.dumps(s)).test_files == s.test_files


@pytest.mark.unit
def test_bad_image_folders(tmp_path):
    empty = tmp_path / "empty"
    (empty / "cat").mkdir(parents=True)
    (empty / "cat" / "notes.txt").write_text("no images")
    with pytest.raises(DatasetError, match=r"holds no images \(jpg, jpeg, png, bmp, gif\) in class sub-folders"):
        prepare(DataSpec(str(empty)))
    loose = tmp_path / "loose"
    loose.mkdir()
    Image.new("RGB", (4, 4)).save(loose / "a.png")
    with pytest.raises(DatasetError, match=r"holds 1 image\(s\) but no class sub-folders with images"):
        prepare(DataSpec(str(loose)))
    single = image_folder(tmp_path / "one", classes=("cat",), per_class=5)
    (single / "dog").mkdir()  # an empty class folder does not count
    with pytest.raises(DatasetError, match=r"holds images of a single class \('cat'\); at least two class sub-folders"):
        prepare(DataSpec(str(single)))
    few = image_folder(tmp_path / "few", classes=("cat", "dog"), per_class=6)
    for extra in list((few / "dog").iterdir())[1:]:
        extra.unlink()
    with pytest.raises(DatasetError, match=r"^class dog has 1 image\(s\): a stratified test split needs at least 2"):
        prepare(DataSpec(str(few)))
    with pytest.raises(DatasetError, match="task 'regression' needs numeric targets, but the class folders"):
        prepare(DataSpec(str(image_folder(tmp_path / "reg")), task="regression"))


# --------------------------------------------------------------------------- no TensorFlow in the parent


def test_prepare_imports_no_tensorflow(tmp_path, root):
    csv = write_csv(tmp_path, table())
    parquet = str(tmp_path / "t.parquet")
    table().to_parquet(parquet)
    folder = image_folder(tmp_path)
    npz = save_npz(tmp_path / "a.npz", x_train=np.zeros((20, 3)), y_train=np.arange(20) % 2)
    script = textwrap.dedent(
        f"""
        import sys
        import evolve.data
        from evolve.data import DataSpec, prepare
        prepare(DataSpec("breast_cancer"))
        for name in ("digits", "diabetes", {csv!r}, {parquet!r}, {str(folder)!r}, {npz!r}):
            prepare(DataSpec(name))
        heavy = sorted(m for m in ("tensorflow", "keras", "jax", "torch") if m in sys.modules)
        print("loaded:", heavy)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loaded: []"


# --------------------------------------------------------------------------- Keras (slow)


def _body(keras, features, units, activation):
    x = keras.layers.Flatten()(features) if len(features.shape) > 2 else features
    x = keras.layers.Dense(16, activation="relu")(x)
    return keras.layers.Dense(units, activation=activation)(x)


@pytest.mark.slow
def test_digits_model_takes_raw_pixels_and_survives_save_and_load(tmp_path, monkeypatch):
    import keras

    from evolve.data import model_inputs

    keras.utils.set_random_seed(0)
    s = prepare(DataSpec("digits"))
    inputs, features = model_inputs(s)
    assert tuple(features.shape[1:]) == s.feature_shape
    model = keras.Model(inputs, _body(keras, features, s.num_outputs, "softmax"))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(**s.fit_inputs(batch_size=32, seed=0), validation_data=s.validation_data(), epochs=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    raw = s.x_test  # raw values 0..16
    assert np.allclose(loaded.predict(raw, verbose=0), model.predict(raw, verbose=0), atol=1e-6)
    _, accuracy = loaded.evaluate(**s.eval_inputs("test"), verbose=0)
    assert accuracy > 0.85
    rescaled = keras.Model(loaded.inputs, loaded.get_layer("preprocess_rescale").output)
    assert np.allclose(rescaled.predict(raw[:4], verbose=0), raw[:4] / 16)
    both = s.fit_inputs(batch_size=32, seed=0, include_validation=True)
    assert len(both["x"]) == len(s.x_train) + len(s.x_val) and both["shuffle"] is True

    def offline():
        raise OSError("name resolution failed\nmore")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DatasetError) as err:
        prepare(DataSpec("mnist"))
    assert str(err.value) == (
        "cannot load 'mnist' through keras.datasets (name resolution failed); offline machines "
        "can pass a local .npz file with x_train, y_train, x_test, y_test instead"
    )
    keras.backend.clear_session()


@pytest.mark.slow
def test_table_model_takes_a_dict_of_raw_columns(tmp_path):
    import keras
    import tensorflow as tf

    from evolve.data import model_inputs

    keras.utils.set_random_seed(0)
    s = prepare(DataSpec(write_csv(tmp_path, table())))
    inputs, features = model_inputs(s.preprocessing)
    assert set(inputs) == {"weight", "age", "tame", "city"} and tuple(features.shape[1:]) == (8,)
    model = keras.Model(inputs, _body(keras, features, s.num_outputs, "softmax"))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(**s.fit_inputs(batch_size=16, seed=0), validation_data=s.validation_data(), epochs=2, verbose=0)
    model.evaluate(**s.eval_inputs("test"), verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    raw = {k: tf.constant(v) for k, v in s.x_test.items()}  # Keras refuses numpy strings
    raw["city"] = tf.constant([["atlantis"], *s.x_test["city"][1:].tolist()])  # unseen: OOV slot
    assert np.allclose(loaded.predict(raw, verbose=0), model.predict(raw, verbose=0), atol=1e-6)
    feats = keras.Model(loaded.inputs, loaded.get_layer("preprocess_features").output)(raw).numpy()
    prep = s.preprocessing
    for j, column in enumerate(prep.columns[:3]):
        expected = (s.x_test[column.name][:, 0] - column.mean) / np.sqrt(column.variance)
        assert np.allclose(feats[:, j], expected, atol=1e-4)
    vocabulary = prep.columns[3].vocabulary
    assert feats[0, 3:].tolist() == [1.0, 0, 0, 0, 0]  # atlantis: out of vocabulary
    assert feats[1, 3 + 1 + vocabulary.index(s.x_test["city"][1, 0])] == 1.0
    keras.backend.clear_session()


@pytest.mark.slow
def test_image_folder_streams_and_model(tmp_path):
    import keras

    from evolve.data import model_inputs

    root = image_folder(tmp_path)
    s = prepare(DataSpec(str(root), image_size=(10, 12)))
    images, labels = next(iter(s.eval_inputs("test", batch_size=5)["x"]))
    assert images.shape == (5, 10, 12, 3) and images.dtype == "float32"
    first = np.asarray(Image.open(s.test_files[0]), dtype=np.float32)
    assert np.array_equal(images[0].numpy(), first) and labels[0] == s.test_labels[0]  # raw 0..255
    stream = s.fit_inputs(batch_size=64, seed=7)["x"]
    epoch1, epoch2 = (np.concatenate([b[1].numpy() for b in stream]) for _ in range(2))
    again = np.concatenate([b[1].numpy() for b in s.fit_inputs(batch_size=64, seed=7)["x"]])
    assert np.array_equal(epoch1, again) and not np.array_equal(epoch1, epoch2)  # seeded, reshuffled
    assert sorted(epoch1) == sorted(s.train_labels)
    assert len(np.concatenate([b[1].numpy() for b in s.fit_inputs(8, 7, include_validation=True)["x"]])) == 28
    gray = prepare(DataSpec(str(root), image_size=(5, 6), color_mode="grayscale"))
    assert next(iter(gray.validation_data(batch_size=2)))[0].shape == (2, 5, 6, 1)
    keras.utils.set_random_seed(0)
    inputs, features = model_inputs(s)
    model = keras.Model(inputs, _body(keras, features, s.num_outputs, "softmax"))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(**s.fit_inputs(batch_size=8, seed=0), validation_data=s.validation_data(), epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    raw = np.stack([np.asarray(Image.open(f), dtype=np.float32) for f in s.test_files])
    assert raw.max() > 200  # raw pixels: the model rescales them itself
    assert np.allclose(loaded.predict(raw, verbose=0), model.predict(raw, verbose=0), atol=1e-6)
    keras.backend.clear_session()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/dev/null", "not a file or a folder"),
        ("", "data.dataset is empty"),
        ("   ", "data.dataset is empty"),
    ],
)
def test_a_dataset_name_that_names_no_data_is_one_line_naming_the_setting(name, expected):
    """Found by a newcomer: /dev/null was 'not found', "" read the current folder as images,
    and an empty name was reported as data.name."""
    from evolve.session import absolute_dataset

    with pytest.raises(DatasetError, match=expected):
        prepare(DataSpec(absolute_dataset(name)))


@pytest.mark.unit
def test_a_table_file_named_only_by_its_extension_is_read(tmp_path):
    rows = "a,b,label\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(40))
    (tmp_path / ".csv").write_text(rows)
    data = prepare(DataSpec(str(tmp_path / ".csv"), target="label"))
    assert data.num_outputs in (1, 2)


@pytest.mark.unit
def test_a_run_folder_that_does_not_exist_is_said_so(tmp_path):
    from evolve.rundir.store import RunDir, RunDirError
    from evolve.session import read_config

    with pytest.raises(RunDirError, match="does not exist"):
        read_config(RunDir(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunDirError, match="holds no run"):
        read_config(RunDir(tmp_path / "empty"))


# -- bad data is refused at load, before training ----------------------------------------------


def save(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.unit
def test_non_finite_images_are_refused_at_load(tmp_path):
    x = np.random.default_rng(0).random((40, 4, 4))
    x[3, 1, 1] = np.nan
    y = np.repeat([0, 1], 20)
    with pytest.raises(DatasetError, match=r"x_train holds 1 non-finite values .* in 1 of 40"):
        prepare(DataSpec(save(tmp_path / "nan.npz", x_train=x, y_train=y)))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array([0] * 19 + [1]), r"class 1 has 1 image\(s\): a stratified test split needs at least 2"),
        (np.repeat(np.arange(10), 2), "cannot hold each of the 10 classes"),
    ],
)
def test_classes_too_small_to_split_are_refused(tmp_path, y, message):
    x = np.random.default_rng(0).random((len(y), 4, 4))
    with pytest.raises(DatasetError, match=message):
        prepare(DataSpec(save(tmp_path / "small.npz", x_train=x, y_train=y)))


def test_nan_data_on_the_command_line_is_one_line(root, tmp_path):
    x = np.random.default_rng(0).random((40, 8, 8))
    x[:5] = np.nan
    data = save(tmp_path / "nan.npz", x_train=x, y_train=np.repeat([0, 1], 20))
    result = cli(root, "run", "--dataset", data, "--out", str(tmp_path / "r"), timeout=120)
    assert one_line_exit_2(result) and "non-finite values" in result.stderr


@pytest.mark.unit
def test_empty_data_and_fractional_filters_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="x_train holds no images"):
        prepare(DataSpec(save(tmp_path / "e.npz", x_train=np.zeros((0, 4, 4)),
                              y_train=np.zeros(0))))  # fmt: skip
    from evolve.settings import config

    with pytest.raises(ConfigError, match=r"16\.5 is not allowed for the cnn model"):
        config.from_dict({"genes": {"filters": [16.5, 32]}}).space()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x_train": np.ones((20, 4, 4)), "y_train": np.r_[[np.nan], np.repeat([0.0, 1.0], 9),
                                                          [1.0]]}, "y_train holds 1 NaN or infinite values"),
        ({"x_train": np.ones((20, 4, 4)) * 1j, "y_train": np.repeat([0, 1], 10)},
         "must hold real numbers"),
        ({"x_train": np.ones((20, 4, 4)), "y_train": np.repeat([0, 1], 10),
          "x_test": np.ones((4, 4, 4)), "y_test": np.array([0, 1, 7, 7])},
         "y_test has 1 class(es) the training data never shows (7)"),
    ],
)  # fmt: skip
def test_more_bad_data_is_refused_at_load(tmp_path, arrays, message):
    with pytest.raises(DatasetError) as info:
        prepare(DataSpec(save(tmp_path / "bad.npz", **arrays)))
    assert message in str(info.value)


@pytest.mark.unit
def test_an_npy_file_is_not_an_npz(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(DatasetError, match=r"holds one array \(\.npy\)"):
        prepare(DataSpec(str(tmp_path / "one.npz")))
