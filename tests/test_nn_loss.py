"""Loss layers: values and gradients against PyTorch through the modules
(gradcheck, gradgradcheck and 1e-10 via the oracle; train and eval mode to
1e-8), constructor arguments and their defaults, weights as buffers with
PyTorch's state_dict keys, reprs, the deprecated size_average/reduce pair,
and a linear classifier trained one step with each library."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn.modules import loss as losses
from retrograd.nn.modules.linear import Linear

from oracle import Case, assert_close, check_case, parametrize_cases

torch = pytest.importorskip("torch")


def nn_of(lib):
    return torch.nn if lib is torch else losses


def logits_and_classes(shape, n_classes, weight=False, ignore=False):
    def make(rng):
        logits = rng.uniform(-2, 2, size=(shape[0], n_classes) + shape[1:])
        targets = rng.integers(0, n_classes, size=shape)
        if ignore:
            targets.flat[0] = -100
        return [logits, targets] + ([rng.uniform(0.2, 2.0, size=n_classes)] if weight else [])

    return make


def pairs(shape, target_low=-2.0, target_high=2.0, extra=()):
    """Input and target kept 0.15 to 1 apart (away from the kinks at 0 and 0.5), plus extra arrays."""

    def make(rng):
        target = rng.uniform(target_low, target_high, size=shape)
        gap = rng.uniform(0.15, 1.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        gap[np.abs(np.abs(gap) - 0.5) < 0.1] *= 1.5
        return [target + gap, target] + [rng.uniform(0.2, 2.0, size=s) for s in extra]

    return make


def probabilities(shape, extra=()):
    def make(rng):
        return [rng.uniform(0.05, 0.95, size=shape), rng.uniform(0, 1, size=shape)] + [
            rng.uniform(0.2, 2.0, size=s) for s in extra
        ]

    return make


CASES = [
    *[
        Case(f"{name}_{reduction}", fn, make_inputs=make, grad_inputs=grads)
        for reduction in ("none", "mean", "sum")
        for name, fn, make, grads in [
            ("MSELoss", lambda lib, x, y, r=reduction: nn_of(lib).MSELoss(reduction=r)(x, y), pairs((3, 4)), (0, 1)),
            ("L1Loss", lambda lib, x, y, r=reduction: nn_of(lib).L1Loss(reduction=r)(x, y), pairs((3, 4)), (0, 1)),
            ("HuberLoss", lambda lib, x, y, r=reduction: nn_of(lib).HuberLoss(r, delta=0.5)(x, y),
             pairs((3, 4)), (0, 1)),
            ("SmoothL1Loss", lambda lib, x, y, r=reduction: nn_of(lib).SmoothL1Loss(reduction=r, beta=0.5)(x, y),
             pairs((3, 4)), (0, 1)),
            ("CrossEntropyLoss", lambda lib, x, t, w, r=reduction: nn_of(lib).CrossEntropyLoss(
                w, reduction=r, label_smoothing=0.1)(x, t), logits_and_classes((4,), 3, weight=True, ignore=True), (0,)),
            ("CrossEntropyLoss_kdim", lambda lib, x, t, r=reduction: nn_of(lib).CrossEntropyLoss(reduction=r)(x, t),
             logits_and_classes((2, 3), 4), (0,)),
            ("NLLLoss", lambda lib, x, t, w, r=reduction: nn_of(lib).NLLLoss(w, ignore_index=1, reduction=r)(x, t),
             logits_and_classes((5,), 3, weight=True), (0,)),
            ("BCELoss", lambda lib, p, y, w, r=reduction: nn_of(lib).BCELoss(w, reduction=r)(p, y),
             probabilities((3, 4), extra=((4,),)), (0, 1)),
            ("BCEWithLogitsLoss", lambda lib, x, y, w, pw, r=reduction: nn_of(lib).BCEWithLogitsLoss(
                w, reduction=r, pos_weight=pw)(x, y), pairs((3, 4), target_low=0.0, target_high=1.0,
                                                       extra=((3, 4), (4,))), (0, 1)),
            ("KLDivLoss", lambda lib, x, y, r=reduction: nn_of(lib).KLDivLoss(reduction=r, log_target=True)(x, y),
             pairs((3, 4), target_high=0.0), (0, 1)),
        ]
    ],
    Case("KLDivLoss_batchmean", lambda lib, x, y: nn_of(lib).KLDivLoss(reduction="batchmean")(x, y),
         make_inputs=pairs((3, 4), target_low=0.1, target_high=1.0)),
    Case("CrossEntropyLoss_probabilities", lambda lib, x, p: nn_of(lib).CrossEntropyLoss(label_smoothing=0.2)(x, p),
         shapes=((4, 3), (4, 3)), low=0.1, high=1.0),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_loss_layer(case, layout):
    check_case(case, layout=layout)


# -------------------------------------------- train and eval mode, PyTorch parity

LAYERS = [
    ("MSELoss", {}, "regression"),
    ("L1Loss", {"reduction": "sum"}, "regression"),
    ("HuberLoss", {"delta": 2.0}, "regression"),
    ("SmoothL1Loss", {"beta": 0.3, "reduction": "none"}, "regression"),
    ("CrossEntropyLoss", {"weight": [0.5, 1.0, 2.0], "ignore_index": 2, "label_smoothing": 0.05}, "classes"),
    ("NLLLoss", {"weight": [1.0, 3.0, 0.5], "reduction": "sum"}, "classes"),
    ("BCELoss", {"weight": [1.0, 2.0, 0.5]}, "probabilities"),
    ("BCEWithLogitsLoss", {"weight": [1.0, 2.0, 0.5], "pos_weight": [3.0, 1.0, 0.2]}, "binary"),
    ("KLDivLoss", {"reduction": "batchmean"}, "distributions"),
]


def _layer(lib, name, kwargs):
    kwargs = {
        key: lib.tensor(value, dtype=lib.float64) if isinstance(value, list) else value for key, value in kwargs.items()
    }
    return getattr(nn_of(lib), name)(**kwargs)


def _inputs(kind, rng):
    x = rng.standard_normal((4, 3))
    if kind == "regression":
        return x, rng.standard_normal((4, 3))
    if kind == "classes":
        return x, rng.integers(0, 3, size=4)
    if kind == "probabilities":
        return rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3))
    if kind == "binary":
        return x, rng.uniform(0, 1, (4, 3))
    return np.log(rng.dirichlet(np.ones(3), 4)), rng.dirichlet(np.ones(3), 4)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize(("name", "kwargs", "kind"), LAYERS, ids=[layer[0] for layer in LAYERS])
def test_layers_match_pytorch_in_train_and_eval_mode(name, kwargs, kind, training):
    data, target = _inputs(kind, np.random.default_rng(0))
    results = []
    for lib in (rg, torch):
        module = _layer(lib, name, kwargs).train(training)
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        loss = module(x, lib.tensor(target))
        loss.sum().backward()
        results.append((loss, x.grad))
    (loss, grad), (torch_loss, torch_grad) = results
    np.testing.assert_allclose(loss.detach().numpy(), torch_loss.detach().numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(grad.numpy(), torch_grad.numpy(), rtol=1e-8, atol=1e-12)


# ----------------------------------------------------- arguments, buffers, repr

ALL_LAYERS = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
              "BCEWithLogitsLoss", "KLDivLoss"]  # fmt: skip
SETTINGS = ["reduction", "ignore_index", "label_smoothing", "delta", "beta", "log_target"]


@pytest.mark.parametrize("name", ALL_LAYERS)
def test_defaults_repr_and_state_dict_match_pytorch(name):
    ours, theirs = getattr(losses, name)(), getattr(torch.nn, name)()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for setting in SETTINGS:
        assert getattr(ours, setting, None) == getattr(theirs, setting, None), setting
    assert ours.training and list(ours.parameters()) == []


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("CrossEntropyLoss", {"weight": [1.0, 2.0]}),
        ("NLLLoss", {"weight": [1.0, 2.0]}),
        ("BCELoss", {"weight": [1.0, 2.0]}),
        ("BCEWithLogitsLoss", {"weight": [1.0, 2.0]}),
        ("BCEWithLogitsLoss", {"pos_weight": [1.0, 2.0]}),
        ("BCEWithLogitsLoss", {"weight": [1.0, 2.0], "pos_weight": [3.0, 4.0]}),
    ],
)
def test_weights_are_buffers_with_pytorch_state_dict_keys(name, kwargs):
    ours, theirs = _layer(rg, name, kwargs), _layer(torch, name, kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [key for key, _ in ours.named_buffers()] == [key for key, _ in theirs.named_buffers()]
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    restored = _layer(rg, name, {key: [0.0, 0.0] for key in kwargs})
    restored.load_state_dict({key: rg.tensor(value.numpy()) for key, value in theirs.state_dict().items()})
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(restored.state_dict()[key].numpy(), value.numpy())


def test_weight_buffer_follows_the_module_dtype():
    module = losses.CrossEntropyLoss(weight=rg.tensor([1.0, 2.0, 3.0])).double()
    assert module.weight.dtype == rg.float64
    loss = module(rg.randn(4, 3, dtype=rg.float64), rg.tensor([0, 1, 2, 0]))
    assert loss.dtype == rg.float64


@pytest.mark.parametrize(
    ("size_average", "reduce", "expected"), [(False, None, "sum"), (None, False, "none"), (True, None, "mean")]
)
@pytest.mark.parametrize("name", ["MSELoss", "CrossEntropyLoss", "KLDivLoss", "BCEWithLogitsLoss"])
def test_legacy_size_average_and_reduce_set_the_reduction(name, size_average, reduce, expected):
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        module = getattr(losses, name)(size_average=size_average, reduce=reduce)
    assert module.reduction == expected


def test_constructor_arguments_in_pytorch_order():
    module = losses.CrossEntropyLoss(None, None, 3, None, "sum", 0.2)
    assert (module.ignore_index, module.reduction, module.label_smoothing) == (3, "sum", 0.2)
    module = losses.NLLLoss(None, None, 4, None, "none")
    assert (module.ignore_index, module.reduction) == (4, "none")
    assert losses.HuberLoss("sum", 0.5).delta == 0.5
    assert losses.SmoothL1Loss(None, None, "sum", 0.25).beta == 0.25
    assert losses.KLDivLoss(None, None, "batchmean", True).log_target is True


def test_constructor_and_call_errors():
    with pytest.raises(TypeError, match="HuberLoss: delta must be a float or int"):
        losses.HuberLoss(delta="1")
    with pytest.raises(ValueError, match="mse_loss: avg is not a valid value for reduction"):
        losses.MSELoss(reduction="avg")(rg.randn(3), rg.randn(3))
    with pytest.raises(IndexError, match="cross_entropy: Target 3 is out of bounds"):
        losses.CrossEntropyLoss()(rg.randn(2, 3), rg.tensor([0, 3]))
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer 'weight'"):
        losses.CrossEntropyLoss(weight=[1.0, 2.0])


# ----------------------------------------------------------- in a training step


def test_one_training_step_of_a_linear_classifier_matches_pytorch():
    rng = np.random.default_rng(0)
    data, targets = rng.standard_normal((8, 5)), rng.integers(0, 3, size=8)
    ours = Linear(5, 3, dtype=rg.float64)
    theirs = torch.nn.Linear(5, 3, dtype=torch.float64)
    ours.load_state_dict({key: rg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})
    loss = losses.CrossEntropyLoss(label_smoothing=0.1)(ours(rg.tensor(data)), rg.tensor(targets))
    torch_loss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(theirs(torch.tensor(data)), torch.tensor(targets))
    loss.backward()
    torch_loss.backward()
    assert_close(loss, torch_loss, "loss")
    assert_close(ours.weight.grad, theirs.weight.grad, "weight gradient")
    assert_close(ours.bias.grad, theirs.bias.grad, "bias gradient")
