"""retrograd.utils.data against torch.utils.data: datasets, samplers,
random_split, collate functions and the DataLoader's batching rules."""

import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import retrograd as rg
import retrograd.data as rdata
from retrograd.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackedSamples,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)


def assert_same_batch(ours, theirs):
    """Same structure, same container types, same values and dtypes."""
    if isinstance(theirs, (torch.Tensor, rg.Tensor)):
        assert isinstance(ours, rg.Tensor), f"expected a Tensor, got {type(ours).__name__}"
        assert ours.shape == tuple(theirs.shape)
        assert ours.numpy().dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and ours.keys() == theirs.keys()
        for key in theirs:
            assert_same_batch(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours).__name__ == type(theirs).__name__ and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_batch(a, b)
    else:
        assert ours == theirs


def paired_tensor_datasets(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) % 4
    return TensorDataset(rg.tensor(x), rg.tensor(y)), tdata.TensorDataset(torch.tensor(x), torch.tensor(y))


class ShiftedTensorDataset(TensorDataset):
    """A subclass that changes __getitem__ only: batches must go through it."""

    def __getitem__(self, index):
        return tuple(t + 100 for t in super().__getitem__(index))


class DictDataset(Dataset):
    """A plain map-style dataset without __getitems__ whose samples are dicts of mixed types."""

    def __init__(self, n=7):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float32), "label": i % 3, "weight": i / 2, "name": f"s{i}", "pair": (i, -i)}


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# ------------------------------------------------------------------- datasets
def test_tensor_dataset_indexing_matches_torch():
    ours, theirs = paired_tensor_datasets()
    assert len(ours) == len(theirs) == 10
    for index in (0, 3, -1, slice(2, 5), [1, 4]):
        assert_same_batch(list(ours[index]), list(theirs[index]))


def test_tensor_dataset_rejects_mismatched_sizes_and_non_tensors():
    with pytest.raises(ValueError, match=r"TensorDataset: size mismatch.*\[3, 4\]"):
        TensorDataset(rg.zeros(3, 2), rg.zeros(4))
    with pytest.raises(TypeError, match="TensorDataset: expected Tensors, got ndarray"):
        TensorDataset(np.zeros(3))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_getitems_gathers_whole_batch_and_behaves_as_sample_list():
    ours, _ = paired_tensor_datasets()
    batch = ours.__getitems__([4, 0, 9, 4])
    assert isinstance(batch, StackedSamples) and len(batch) == 4
    np.testing.assert_array_equal(batch.columns[0].numpy(), ours.tensors[0].numpy()[[4, 0, 9, 4]])
    # As a sequence it is the list of samples PyTorch's protocol returns.
    for got, index in zip(batch, [4, 0, 9, 4]):
        assert_same_batch(list(got), list(ours[index]))
    assert len(batch[1:3]) == 2


def test_dataloader_batches_without_per_sample_fetches(monkeypatch):
    single_fetches = []
    original = TensorDataset.__getitem__

    def counting(self, index):
        single_fetches.append(index)
        return original(self, index)

    monkeypatch.setattr(TensorDataset, "__getitem__", counting)
    data = TensorDataset(rg.randn(50, 4), rg.arange(50))
    batches = list(DataLoader(data, batch_size=8, shuffle=True))
    assert single_fetches == []
    assert [b[0].shape[0] for b in batches] == [8] * 6 + [2]


def test_subclass_overriding_getitem_is_read_through_it():
    data = ShiftedTensorDataset(rg.arange(6))
    for dataset in (data, Subset(data, [5, 0]), ConcatDataset([data, data])):
        (batch,) = next(iter(DataLoader(dataset, batch_size=2)))
        assert batch.min().item() >= 100


def test_subset_and_concat_match_torch():
    ours, theirs = paired_tensor_datasets(10)
    ours_other, theirs_other = paired_tensor_datasets(5)
    our_subset, their_subset = Subset(ours, [7, 2, 2, 9]), tdata.Subset(theirs, [7, 2, 2, 9])
    assert len(our_subset) == 4
    for i in range(-4, 4):
        assert_same_batch(list(our_subset[i]), list(their_subset[i]))
    our_cat, their_cat = ours + ours_other, theirs + theirs_other
    assert isinstance(our_cat, ConcatDataset) and len(our_cat) == 15 and our_cat.cumulative_sizes == [10, 15]
    for i in range(-15, 15):
        assert_same_batch(list(our_cat[i]), list(their_cat[i]))
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        our_cat[-16]


def test_concat_batches_in_requested_order_across_parts():
    a = TensorDataset(rg.arange(6) * 10)
    b = TensorDataset(rg.arange(4) * 100)
    plain = DictDataset(3)
    order = [8, 0, 9, 5, 6, 1, -1]
    batch = ConcatDataset([a, b]).__getitems__(order)
    assert isinstance(batch, StackedSamples)
    np.testing.assert_array_equal(batch.columns[0].numpy(), [200, 0, 300, 50, 0, 10, 300])
    # A part without __getitems__ makes the batch a list of samples, still in order.
    mixed = ConcatDataset([a, plain])
    samples = mixed.__getitems__([7, 1, 6])
    assert samples[0]["label"] == 1 and int(samples[1][0]) == 10 and samples[2]["label"] == 0
    with pytest.raises(IndexError, match="out of range"):
        ConcatDataset([a, b]).__getitems__([10])


def test_concat_rejects_iterable_datasets_and_chain_chains_them():
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Stream(2)])
    chained = Stream(2) + Stream(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5


# --------------------------------------------------------------- random_split
@pytest.mark.parametrize(
    ("n", "lengths"),
    [(10, [3, 7]), (10, [0.3, 0.7]), (11, [0.5, 0.5]), (30, [0.3, 0.3, 0.4]), (7, [0.1, 0.2, 0.7]), (5, [1.0])],
)
def test_random_split_lengths_match_torch_and_partition(n, lengths):
    ours = random_split(range(n), lengths, generator=rg.Generator().manual_seed(1))
    theirs = tdata.random_split(range(n), lengths, generator=torch.Generator().manual_seed(1))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for subset in ours for i in subset.indices) == list(range(n))
    assert all(isinstance(s, Subset) for s in ours)


def test_random_split_is_reproducible_and_uses_default_generator():
    first = random_split(range(20), [5, 15], generator=rg.Generator().manual_seed(3))
    again = random_split(range(20), [5, 15], generator=rg.Generator().manual_seed(3))
    assert [s.indices for s in first] == [s.indices for s in again]
    rg.manual_seed(5)
    seeded = random_split(range(20), [0.5, 0.5])
    rg.manual_seed(5)
    assert [s.indices for s in random_split(range(20), [0.5, 0.5])] == [s.indices for s in seeded]
    assert seeded[0].indices != list(range(10))


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"random_split: sum of input lengths \(9\) does not equal .* \(10\)"):
        random_split(range(10), [4, 5])
    with pytest.raises(ValueError, match=r"fraction at index 0 is not between 0 and 1 \(got 1.5\)"):
        random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="length of split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1])


# -------------------------------------------------------------------- samplers
def test_sequential_and_batch_sampler_match_torch():
    for batch_size in (1, 3, 4, 10, 12):
        for drop_last in (False, True):
            ours = BatchSampler(SequentialSampler(range(10)), batch_size, drop_last)
            theirs = tdata.BatchSampler(tdata.SequentialSampler(range(10)), batch_size, drop_last)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs)
            # Any iterable of indices works as the sampler too.
            assert list(BatchSampler(list(range(10)), batch_size, drop_last)) == list(theirs)


def test_batch_sampler_validates_arguments():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, 1)


def test_random_sampler_permutes_and_is_reproducible():
    sampler = RandomSampler(range(100), generator=rg.Generator().manual_seed(0))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(100))
    assert first != second  # a new order every epoch
    assert list(RandomSampler(range(100), generator=rg.Generator().manual_seed(0))) == first
    rg.manual_seed(9)
    seeded = list(RandomSampler(range(100)))
    rg.manual_seed(9)
    assert list(RandomSampler(range(100))) == seeded


def test_random_sampler_num_samples_and_replacement():
    chained = list(RandomSampler(range(10), num_samples=25))
    counts = np.bincount(chained, minlength=10)
    assert len(chained) == 25 and counts.min() >= 2 and counts.max() <= 3
    assert sorted(chained[:10]) == list(range(10)) and sorted(chained[10:20]) == list(range(10))
    drawn = list(RandomSampler(range(5), replacement=True, num_samples=1000))
    assert len(drawn) == 1000 and set(drawn) == set(range(5))
    assert len(RandomSampler(range(5), replacement=True, num_samples=7)) == 7
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler([])
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)


def test_subset_random_sampler_shuffles_the_given_indices():
    indices = [3, 17, 4, 99, 42]
    drawn = list(SubsetRandomSampler(indices, generator=rg.Generator().manual_seed(2)))
    assert sorted(drawn) == sorted(indices) and len(SubsetRandomSampler(indices)) == 5
    assert all(isinstance(i, int) for i in drawn)


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0, 0.0]
    drawn = np.array(list(WeightedRandomSampler(weights, 20000, generator=rg.Generator().manual_seed(0))))
    assert set(drawn.tolist()) == {1, 2}
    assert abs((drawn == 2).mean() - 0.75) < 0.02
    unique = list(WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)


# ------------------------------------------------------------------- collate
def test_default_collate_matches_torch_on_mixed_samples():
    Point = collections.namedtuple("Point", ["x", "y"])
    cases = [
        [(1, 2.5), (3, 4.5)],
        [{"a": np.ones(2, np.float32), "b": (1, 2)}, {"a": np.zeros(2, np.float32), "b": (3, 4)}],
        [Point(np.int32(1), 2.0), Point(np.int32(3), 4.0)],
        [[True, 1], [False, 2]],
        [np.float64(1.5), np.float64(2.5)],
        ["a", "b"],
    ]
    for batch in cases:
        assert_same_batch(default_collate(batch), tdata.default_collate(batch))
    tensors = [rg.tensor([1.0, 2.0]), rg.tensor([3.0, 4.0])]
    stacked = default_collate(tensors)
    assert stacked.shape == (2, 2) and stacked.dtype == rg.float32


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers, dicts or lists"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_matches_torch():
    for sample in ({"x": np.arange(3), "n": 1}, (np.float32(2.0), "s"), [np.ones((2, 2))], 5):
        assert_same_batch(default_convert(sample), tdata.default_convert(sample))


# ------------------------------------------------------------------ DataLoader
@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(batch_size, drop_last):
    ours, theirs = paired_tensor_datasets(10)
    our_loader = DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    their_loader = tdata.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(our_loader) == len(their_loader)
    our_batches, their_batches = list(our_loader), list(their_loader)
    assert len(our_batches) == len(their_batches)
    for a, b in zip(our_batches, their_batches):
        assert_same_batch(a, b)


def test_plain_dataset_with_dict_samples_matches_torch():
    our_batches = list(DataLoader(DictDataset(), batch_size=3))
    their_batches = list(tdata.DataLoader(DictDataset(), batch_size=3))
    for a, b in zip(our_batches, their_batches, strict=True):
        assert_same_batch(a, b)


def test_shuffle_covers_every_index_once_per_epoch_and_repeats_with_seed():
    data = TensorDataset(rg.arange(103))
    loader = DataLoader(data, batch_size=10, shuffle=True)
    epochs = [np.concatenate([batch[0].numpy() for batch in loader]) for _ in range(2)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(103))
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[0], np.arange(103))

    def one_epoch(**kwargs):
        return np.concatenate([batch[0].numpy() for batch in DataLoader(data, batch_size=10, shuffle=True, **kwargs)])

    rg.manual_seed(123)
    first = one_epoch()
    rg.manual_seed(123)
    np.testing.assert_array_equal(one_epoch(), first)
    with_generator = one_epoch(generator=rg.Generator().manual_seed(7))
    rg.manual_seed(999)  # the explicit generator does not depend on the default one
    np.testing.assert_array_equal(one_epoch(generator=rg.Generator().manual_seed(7)), with_generator)


def test_drop_last_with_shuffle_and_len():
    loader = DataLoader(TensorDataset(rg.arange(10)), batch_size=4, shuffle=True, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 2 and all(b[0].shape == (4,) for b in batches)
    assert len(set(np.concatenate([b[0].numpy() for b in batches]).tolist())) == 8


def test_custom_sampler_batch_sampler_and_no_batching():
    ours, theirs = paired_tensor_datasets(6)
    order = [5, 1, 3]
    for a, b in zip(
        DataLoader(ours, batch_size=2, sampler=order), tdata.DataLoader(theirs, batch_size=2, sampler=order)
    ):
        assert_same_batch(a, b)
    groups = [[0, 5], [2], [4, 1, 3]]
    our_loader = DataLoader(ours, batch_sampler=groups)
    assert len(our_loader) == 3
    for a, b in zip(our_loader, tdata.DataLoader(theirs, batch_sampler=groups), strict=True):
        assert_same_batch(a, b)
    unbatched = list(DataLoader(DictDataset(3), batch_size=None))
    for a, b in zip(unbatched, tdata.DataLoader(DictDataset(3), batch_size=None), strict=True):
        assert_same_batch(a, b)


def test_custom_collate_fn_sees_per_sample_tuples():
    data = TensorDataset(rg.arange(5), rg.arange(5) * 2)
    batches = list(
        DataLoader(data, batch_size=2, collate_fn=lambda samples: [tuple(int(v) for v in s) for s in samples])
    )
    assert batches == [[(0, 0), (1, 2)], [(2, 4), (3, 6)], [(4, 8)]]


def test_iterable_dataset_batches_like_torch():
    for batch_size, drop_last in [(3, False), (3, True), (None, False), (5, False)]:
        ours = DataLoader(Stream(10), batch_size=batch_size, drop_last=drop_last)
        theirs = tdata.DataLoader(TorchStream(10), batch_size=batch_size, drop_last=drop_last)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_same_batch(a, b)
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0])


def test_dataloader_argument_errors():
    data = TensorDataset(rg.arange(4))
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(data, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive with batch_size"):
        DataLoader(data, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(data, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(data, num_workers=-1)
    loader = DataLoader(data, batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3


def test_num_workers_falls_back_to_main_process_with_a_warning():
    data = TensorDataset(rg.arange(4))
    with pytest.warns(UserWarning, match="num_workers=2 is not supported; loading runs in the main process"):
        loader = DataLoader(data, batch_size=2, num_workers=2, pin_memory=True)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(data, num_workers=0)


def test_batches_from_a_tensor_that_requires_grad_stay_in_the_graph():
    weights = rg.tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)
    (batch,) = next(iter(DataLoader(TensorDataset(weights), batch_size=3, sampler=[4, 1, 4])))
    assert batch.requires_grad
    batch.sum().backward()
    np.testing.assert_array_equal(weights.grad.numpy()[:, 0], [0, 1, 0, 0, 2, 0])


def test_retrograd_data_re_exports_the_pipeline():
    assert rdata.DataLoader is DataLoader and rdata.TensorDataset is TensorDataset
    assert rdata.random_split is random_split and rdata.default_collate is default_collate
