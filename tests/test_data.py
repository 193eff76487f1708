"""The IDX reader, finding and downloading the data, loaders, splits and transforms."""
import gzip
import io
import os

import numpy as np
import pytest

from tinynet import data
from tinynet.data import datasets


def idx_bytes(array, magic_type=0x08):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, magic_type, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def write_split_files(folder, n_train=12, n_test=5, compress=True):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for kind, array in (("images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28))),
                            ("labels-idx1-ubyte", np.arange(n) % 10)):
            payload = idx_bytes(array)
            name = f"{prefix}-{kind}" + (".gz" if compress else "")
            (folder / name).write_bytes(gzip.compress(payload) if compress else payload)


@pytest.fixture
def no_real_data(tmp_path, monkeypatch):
    """A temporary HOME, no TINYNET_DATA, and no system folder, so only what the test writes is seen."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TINYNET_DATA", raising=False)
    real_candidates = datasets.candidate_dirs
    monkeypatch.setattr(datasets, "candidate_dirs", lambda source, data_dir=None: [
        d for d in real_candidates(source, data_dir) if not str(d).startswith("/usr/share")])
    monkeypatch.setattr(datasets, "FASHION_MNIST", datasets.DatasetSource(
        "fashion-mnist", ("http://mirror.test/",), {s: None for s in datasets.FASHION_MNIST.sha256},
        datasets.FASHION_CLASSES))
    return tmp_path


@pytest.mark.parametrize("compress", [True, False])
def test_read_good_files(tmp_path, compress):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    payload = idx_bytes(images)
    path = tmp_path / ("x.gz" if compress else "x")
    path.write_bytes(gzip.compress(payload) if compress else payload)
    np.testing.assert_array_equal(data.read_idx(path), images)


def test_truncated_wrong_magic_and_corrupt_gzip(tmp_path):
    payload = idx_bytes(np.zeros((3, 28, 28)))
    (tmp_path / "short").write_bytes(payload[:-10])
    with pytest.raises(data.IDXError, match=r"short: header says shape \(3, 28, 28\).*truncated"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\x01\x02" + payload[2:])
    with pytest.raises(data.IDXError, match="magic: wrong magic number"):
        data.read_idx(tmp_path / "magic")
    (tmp_path / "broken.gz").write_bytes(gzip.compress(payload)[:-20])
    with pytest.raises(data.IDXError, match="broken.gz: the gzip data is truncated or corrupt"):
        data.read_idx(tmp_path / "broken.gz")


def test_label_image_count_mismatch(no_real_data):
    folder = no_real_data / "d"
    write_split_files(folder)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.arange(11) % 10)))
    with pytest.raises(data.IDXError, match="12 images but 11 labels"):
        data.fashion_mnist("train", data_dir=folder)


def test_locating_order(no_real_data, monkeypatch):
    explicit, env = no_real_data / "explicit", no_real_data / "env"
    cache = no_real_data / "home/.cache/tinynet/fashion-mnist"
    for folder in (explicit, env, cache):
        write_split_files(folder, compress=folder != env)
    monkeypatch.setenv("TINYNET_DATA", str(env))
    assert datasets.locate(datasets.FASHION_MNIST, explicit) == explicit
    assert datasets.locate(datasets.FASHION_MNIST) == env
    monkeypatch.delenv("TINYNET_DATA")
    assert datasets.locate(datasets.FASHION_MNIST) == cache
    train = data.fashion_mnist("train")
    assert train.inputs.shape == (12, 28, 28) and train.classes[0] == "T-shirt/top"


def test_no_data_and_no_network_message(no_real_data, monkeypatch):
    def offline(url, timeout):
        raise OSError("network is unreachable")
    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    with pytest.raises(data.DatasetNotFoundError) as error:
        data.fashion_mnist("train")
    message = str(error.value)
    for hint in ("apt-get install dataset-fashion-mnist", "--data-dir", "TINYNET_DATA", ".cache/tinynet",
                 "network is unreachable"):
        assert hint in message


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_download_verifies_checksum_and_writes_atomically(no_real_data, monkeypatch):
    source_folder = no_real_data / "served"
    write_split_files(source_folder)
    served = {f"http://mirror.test/{p.name}": p.read_bytes() for p in source_folder.iterdir()}
    requested = []

    def opener(url, timeout):
        requested.append(url)
        return FakeResponse(served[url])

    digests = {stem: datasets.hashlib.sha256(gzip.decompress(served[f"http://mirror.test/{stem}.gz"])).hexdigest()
               for stem in datasets.FASHION_MNIST.sha256}
    good = datasets.DatasetSource("fashion-mnist", ("http://mirror.test/",), digests, datasets.FASHION_CLASSES)
    folder = datasets.download(good, opener=opener)
    assert len(requested) == 4 and sorted(os.listdir(folder)) == sorted(p.name for p in source_folder.iterdir())
    datasets.download(good, opener=opener)
    assert len(requested) == 4  # already cached: nothing fetched again

    bad = datasets.DatasetSource("other", ("http://mirror.test/",), {s: "0" * 64 for s in digests}, ())
    with pytest.raises(data.IDXError, match="checksum mismatch"):
        datasets.download(bad, opener=opener)
    assert not (datasets.cache_dir() / "other").exists() or not any(
        p.name.endswith(".gz") for p in (datasets.cache_dir() / "other").iterdir())


def test_loader_determinism_batches_and_device_tensors():
    dataset = data.ArrayDataset(np.arange(50).reshape(25, 2), np.arange(25))
    first = [y.numpy() for _, y in data.DataLoader(dataset, 4, shuffle=True, seed=3)]
    second = [y.numpy() for _, y in data.DataLoader(dataset, 4, shuffle=True, seed=3)]
    assert all((a == b).all() for a, b in zip(first, second)) and len(first) == 7
    assert sorted(np.concatenate(first)) == list(range(25))
    loader = data.DataLoader(dataset, 4, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 6 and batches[0][0].dtype == np.float32
    assert batches[0][1].dtype.kind == "i"


def test_loader_keeps_array_data_on_the_device_only_under_device_transforms():
    """The resident path (data set copied to the device once, batches gathered there) and the host
    path (each batch built on the host) give the same batches; random crops and flips stay on the host."""
    dataset = data.ArrayDataset(np.arange(7 * 4 * 4, dtype=np.uint8).reshape(7, 4, 4), np.arange(7) % 3)
    scale = data.Compose(data.ScaleTo01(), data.AddChannel())

    def on_host(batch, rng):  # the same transform, without the on_device mark
        return scale(batch, rng)
    resident = data.DataLoader(dataset, 3, shuffle=True, seed=1, transform=scale)
    hosted = data.DataLoader(dataset, 3, shuffle=True, seed=1, transform=on_host)
    assert resident.resident and not hosted.resident
    for _ in range(2):  # two epochs: the second reuses the copy and reshuffles
        for (x1, y1), (x2, y2) in zip(resident, hosted):
            np.testing.assert_array_equal(x1.numpy(), x2.numpy())
            np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    assert resident._device_arrays[0] is dataset.inputs  # on the CPU the "copy" is the array itself
    assert data.DataLoader(dataset, 3).resident  # no transform: nothing to run on the host
    flips = data.Compose(data.ScaleTo01(), data.RandomHorizontalFlip())
    assert not data.DataLoader(dataset, 3, transform=flips).resident


def test_split_and_subset_sizes_and_seed():
    dataset = data.ArrayDataset(np.zeros((100, 3)), np.arange(100))
    train, val = data.random_split(dataset, [0.67, 0.33], seed=1)
    assert (len(train), len(val)) == (67, 33)
    assert not set(train.targets) & set(val.targets)
    again, _ = data.random_split(dataset, [0.67, 0.33], seed=1)
    np.testing.assert_array_equal(train.targets, again.targets)
    small = data.subset(dataset, 10, seed=2)
    assert len(small) == 10 and len(set(small.targets)) == 10
    np.testing.assert_array_equal(small.targets, data.subset(dataset, 10, seed=2).targets)
    with pytest.raises(ValueError):
        data.subset(dataset, 101)


def test_transforms_shapes_and_ranges():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (8, 28, 28)).astype(np.float32)
    scaled = data.ScaleTo01()(batch, rng)
    assert scaled.min() >= 0 and scaled.max() <= 1
    normalised = data.Normalize(0.2860, 0.3530)(scaled, rng)
    np.testing.assert_allclose(normalised, (scaled - 0.2860) / 0.3530, rtol=1e-5)
    flipped = data.RandomHorizontalFlip(p=1.0)(batch, rng)
    np.testing.assert_array_equal(flipped, batch[..., ::-1])
    cropped = data.Compose(data.AddChannel(), data.RandomCrop(28, padding=4))(batch, rng)
    assert cropped.shape == (8, 1, 28, 28)
    assert all((np.isin(c[c != 0], b)).all() for c, b in zip(cropped, batch))


def test_real_fashion_mnist():
    """Needs the real data set (the README's set-up installs it: apt-get install dataset-fashion-mnist)."""
    train, test = data.fashion_mnist("train"), data.fashion_mnist("test")
    assert train.inputs.shape == (60000, 28, 28) and test.inputs.shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(train.targets), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(test.targets), [1000] * 10)
    assert round(float((train.inputs / 255.0).mean()), 4) == 0.2860


def test_a_damaged_local_file_is_reported_as_what_it_is(no_real_data):
    """The header is parsed before the checksum is compared, and a local file is never called a download."""
    folder = no_real_data / "local"
    write_split_files(folder)
    digests = {stem: datasets.hashlib.sha256(gzip.decompress((folder / f"{stem}.gz").read_bytes())).hexdigest()
               for stem in datasets.FASHION_MNIST.sha256}
    pinned = datasets.DatasetSource("fashion-mnist", (), digests, datasets.FASHION_CLASSES)
    assert datasets.load(pinned, "train", folder).inputs.shape == (12, 28, 28)
    images = folder / "train-images-idx3-ubyte.gz"
    good = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(good[:-100]))
    with pytest.raises(data.IDXError, match="holds 9308 bytes -- truncated or corrupt") as error:
        datasets.load(pinned, "train", folder)
    assert "download" not in str(error.value)
    images.write_bytes(gzip.compress(good[:-1] + bytes([good[-1] ^ 1])))
    with pytest.raises(data.IDXError, match="well-formed IDX file but not the published data") as error:
        datasets.load(pinned, "train", folder)
    assert "download" not in str(error.value)
