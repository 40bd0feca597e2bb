"""Loss functions: gradcheck, gradgradcheck and PyTorch comparison for every
loss with each reduction and option (class weights, ignore_index, label
smoothing, probability targets, K-dimensional and unbatched inputs,
pos_weight, log targets), second derivatives against PyTorch's, stability at
logits of +-1e4, warnings, and errors."""

import math
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn import functional as RF

from oracle import Case, assert_close, check_case, parametrize_cases

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ("none", "mean", "sum")


def F(lib):
    """The functional namespace of ``lib``."""
    return TF if lib is torch else RF


# --------------------------------------------------------------- input makers


def _away_from(rng, shape, kinks, low=0.1, high=2.0):
    """Random magnitudes in [low, high] at least 0.1 from each kink, with random signs."""
    size = rng.uniform(low, high, size=shape)
    for kink in kinks:
        near = np.abs(size - kink) < 0.1
        size[near] = kink + 0.2
    return size * rng.choice([-1.0, 1.0], size=shape)


def regression_inputs(shape, target_shape=None, kinks=(), weight=False):
    """``input, target[, weight]`` whose differences keep away from the loss's kinks
    (where finite differences would straddle the break); the target may broadcast."""
    target_shape = shape if target_shape is None else target_shape

    def make(rng):
        target = rng.uniform(-2.0, 2.0, size=target_shape)
        input = np.broadcast_to(target, shape) + _away_from(rng, shape, kinks)
        arrays = [input, target]
        if weight:
            arrays.append(rng.uniform(0.2, 2.0, size=shape))
        return arrays

    return make


def class_inputs(shape, ignore=False, weight=False, ignore_index=-100, spread=2.0):
    """Logits of ``shape`` (classes along dim 1, or dim 0 when 1-D), int64 class
    targets, optionally some set to ``ignore_index``, and class weights."""

    def make(rng):
        logits = rng.uniform(-spread, spread, size=shape)
        n_classes = shape[1] if len(shape) > 1 else shape[0]
        target_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
        targets = rng.integers(0, n_classes, size=target_shape)
        if ignore:
            targets = np.where(rng.random(target_shape) < 0.3, ignore_index, targets)
            if targets.size > 1:  # at least one ignored, and (unbatched) not the only target
                targets.flat[0] = ignore_index
        arrays = [logits, np.asarray(targets, dtype=np.int64)]
        if weight:
            arrays.append(rng.uniform(0.2, 2.0, size=n_classes))
        return arrays

    return make


def probability_inputs(shape, weight=False):
    """Logits and a probability target of the same shape (normalised over the class dimension)."""
    class_dim = 0 if len(shape) == 1 else 1

    def make(rng):
        logits = rng.uniform(-2.0, 2.0, size=shape)
        target = rng.uniform(0.05, 1.0, size=shape)
        target = target / target.sum(axis=class_dim, keepdims=True)
        arrays = [logits, target]
        if weight:
            arrays.append(rng.uniform(0.2, 2.0, size=shape[class_dim]))
        return arrays

    return make


def binary_inputs(shape, logits=False, weight_shape=None, pos_weight_shape=None):
    """Probabilities in (0.05, 0.95) (or logits in (-3, 3)), soft targets in [0, 1], optional weights."""

    def make(rng):
        input = rng.uniform(-3.0, 3.0, size=shape) if logits else rng.uniform(0.05, 0.95, size=shape)
        arrays = [input, rng.uniform(0.0, 1.0, size=shape)]
        if weight_shape is not None:
            arrays.append(rng.uniform(0.2, 2.0, size=weight_shape))
        if pos_weight_shape is not None:
            arrays.append(rng.uniform(0.2, 3.0, size=pos_weight_shape))
        return arrays

    return make


def kl_inputs(shape, target_shape=None, log_target=False):
    """Log-probabilities, and a target of probabilities (or log-probabilities)."""
    target_shape = shape if target_shape is None else target_shape

    def make(rng):
        target = rng.uniform(-3.0, 0.0, size=target_shape) if log_target else rng.uniform(0.05, 1.0, size=target_shape)
        return [rng.uniform(-3.0, 0.0, size=shape), target]

    return make


# --------------------------------------------------------------------- cases


def _regression_cases():
    cases = []
    shapes = [((3, 4), None), ((2, 3, 2), (3, 1)), ((0, 3), None), ((), None)]
    for reduction in REDUCTIONS:
        for shape, target_shape in shapes:
            label = f"{reduction}{list(shape)}" + ("" if target_shape is None else f"x{list(target_shape)}")
            cases += [
                Case(
                    f"mse_loss_{label}",
                    lambda lib, x, y, r=reduction: F(lib).mse_loss(x, y, reduction=r),
                    shapes=(shape,),
                    make_inputs=regression_inputs(shape, target_shape),
                ),
                Case(
                    f"l1_loss_{label}",
                    lambda lib, x, y, r=reduction: F(lib).l1_loss(x, y, reduction=r),
                    shapes=(shape,),
                    make_inputs=regression_inputs(shape, target_shape, kinks=(0.0,)),
                ),
                Case(
                    f"huber_loss_{label}",
                    lambda lib, x, y, r=reduction: F(lib).huber_loss(x, y, reduction=r),
                    shapes=(shape,),
                    make_inputs=regression_inputs(shape, target_shape, kinks=(1.0,)),
                ),
                Case(
                    f"smooth_l1_loss_{label}",
                    lambda lib, x, y, r=reduction: F(lib).smooth_l1_loss(x, y, reduction=r),
                    shapes=(shape,),
                    make_inputs=regression_inputs(shape, target_shape, kinks=(1.0,)),
                ),
            ]
        # options: the layout is covered above, so these run contiguous only
        options = {"noncontiguous": False}
        cases += [
            Case(
                f"mse_loss_weighted_{reduction}",
                lambda lib, x, y, w, r=reduction: F(lib).mse_loss(x, y, reduction=r, weight=w),
                make_inputs=regression_inputs((3, 4), weight=True),
                grad_inputs=(0, 1),
                **options,
            ),
            Case(
                f"l1_loss_weighted_{reduction}",
                lambda lib, x, y, w, r=reduction: F(lib).l1_loss(x, y, reduction=r, weight=w),
                make_inputs=regression_inputs((3, 4), kinks=(0.0,), weight=True),
                grad_inputs=(0, 1),
                **options,
            ),
            Case(
                f"huber_loss_weighted_{reduction}",
                lambda lib, x, y, w, r=reduction: F(lib).huber_loss(x, y, reduction=r, delta=0.6, weight=w),
                make_inputs=regression_inputs((3, 4), kinks=(0.6,), weight=True),
                grad_inputs=(0, 1),
                **options,
            ),
            Case(
                f"huber_loss_delta_{reduction}",
                lambda lib, x, y, r=reduction: F(lib).huber_loss(x, y, reduction=r, delta=0.6),
                make_inputs=regression_inputs((3, 4), kinks=(0.6,)),
                **options,
            ),
            Case(
                f"smooth_l1_loss_beta_{reduction}",
                lambda lib, x, y, r=reduction: F(lib).smooth_l1_loss(x, y, reduction=r, beta=1.5),
                make_inputs=regression_inputs((3, 4), kinks=(1.5,)),
                **options,
            ),
            Case(
                f"smooth_l1_loss_beta0_{reduction}",
                lambda lib, x, y, r=reduction: F(lib).smooth_l1_loss(x, y, reduction=r, beta=0.0),
                make_inputs=regression_inputs((3, 4), kinks=(0.0,)),
                **options,
            ),
        ]
    return cases


# Options of the class-index losses: (name, fn(lib, reduction, *inputs), inputs(shape), differentiable inputs).
CLASS_VARIANTS = [
    ("cross_entropy_weight", lambda lib, r, x, t, w: F(lib).cross_entropy(x, t, weight=w, reduction=r),
     lambda shape: class_inputs(shape, weight=True), (0,)),
    ("cross_entropy_ignore_index", lambda lib, r, x, t: F(lib).cross_entropy(x, t, reduction=r),
     lambda shape: class_inputs(shape, ignore=True), (0,)),
    ("cross_entropy_custom_ignore_index", lambda lib, r, x, t: F(lib).cross_entropy(x, t, ignore_index=1, reduction=r),
     lambda shape: class_inputs(shape, ignore=True, ignore_index=1), (0,)),
    ("cross_entropy_label_smoothing", lambda lib, r, x, t: F(lib).cross_entropy(x, t, reduction=r, label_smoothing=0.2),
     lambda shape: class_inputs(shape), (0,)),
    ("cross_entropy_weight_ignore_smoothing",
     lambda lib, r, x, t, w: F(lib).cross_entropy(x, t, weight=w, reduction=r, label_smoothing=0.3),
     lambda shape: class_inputs(shape, ignore=True, weight=True), (0,)),
    ("nll_loss_weight_ignore_index", lambda lib, r, x, t, w: F(lib).nll_loss(x, t, weight=w, reduction=r),
     lambda shape: class_inputs(shape, ignore=True, weight=True), (0,)),
    ("cross_entropy_probabilities", lambda lib, r, x, p: F(lib).cross_entropy(x, p, reduction=r),
     probability_inputs, (0, 1)),
    ("cross_entropy_probabilities_weight_smoothing",
     lambda lib, r, x, p, w: F(lib).cross_entropy(x, p, weight=w, reduction=r, label_smoothing=0.25),
     lambda shape: probability_inputs(shape, weight=True), (0, 1)),
]  # fmt: skip


def _cross_entropy_cases():
    cases = []
    for reduction in REDUCTIONS:
        for shape in [(4, 5), (2, 3, 4), (5,), (1, 1), (0, 4)]:
            label = f"{reduction}{list(shape)}"
            cases += [
                Case(
                    f"cross_entropy_{label}",
                    lambda lib, x, t, r=reduction: F(lib).cross_entropy(x, t, reduction=r),
                    shapes=(shape,),
                    make_inputs=class_inputs(shape),
                    grad_inputs=(0,),
                ),
                Case(
                    f"nll_loss_{label}",
                    lambda lib, x, t, r=reduction: F(lib).nll_loss(x, t, reduction=r),
                    shapes=(shape,),
                    make_inputs=class_inputs(shape),
                    grad_inputs=(0,),
                ),
            ]
        # each option over (N, C) inputs; (N, C, d1, d2) and unbatched (C,) ones for a reduction each
        variant_shapes = {"none": [(6, 4), (2, 3, 2, 2)], "mean": [(6, 4), (2, 3, 2, 2), (4,)], "sum": [(6, 4)]}
        for name, fn, inputs, grad_inputs in CLASS_VARIANTS:
            for shape in variant_shapes[reduction]:
                cases.append(
                    Case(
                        f"{name}_{reduction}{list(shape)}",
                        lambda lib, *xs, fn=fn, r=reduction: fn(lib, r, *xs),
                        shapes=(shape,),
                        make_inputs=inputs(shape),
                        grad_inputs=grad_inputs,
                        noncontiguous=len(shape) == 4,
                    )
                )
        cases += [
            Case(
                f"cross_entropy_uint8_targets_{reduction}",
                lambda lib, x, t, r=reduction: F(lib).cross_entropy(x, t, reduction=r),
                make_inputs=lambda rng: [rng.uniform(-2, 2, (4, 3)), rng.integers(0, 3, 4).astype(np.uint8)],
                grad_inputs=(0,),
                noncontiguous=False,
            ),
            Case(
                f"cross_entropy_wide_logits_{reduction}",
                lambda lib, x, t, r=reduction: F(lib).cross_entropy(x, t, reduction=r, label_smoothing=0.1),
                make_inputs=class_inputs((4, 6), spread=30.0),
                grad_inputs=(0,),
                noncontiguous=False,
            ),
        ]
    return cases


def _binary_cases():
    cases = [
        Case(f"logsigmoid{list(shape)}", lambda lib, x: F(lib).logsigmoid(x), shapes=(shape,), low=-6.0, high=6.0)
        for shape in [(3, 4), (0, 3), (1,), ()]
    ]
    for reduction in REDUCTIONS:
        for shape in [(3, 4), (0, 3), ()]:
            label = f"{reduction}{list(shape)}"
            cases += [
                Case(
                    f"binary_cross_entropy_{label}",
                    lambda lib, p, y, r=reduction: F(lib).binary_cross_entropy(p, y, reduction=r),
                    shapes=(shape,),
                    make_inputs=binary_inputs(shape),
                ),
                Case(
                    f"binary_cross_entropy_with_logits_{label}",
                    lambda lib, x, y, r=reduction: F(lib).binary_cross_entropy_with_logits(x, y, reduction=r),
                    shapes=(shape,),
                    make_inputs=binary_inputs(shape, logits=True),
                ),
            ]
        for weight_shape in [(4,)] if reduction != "mean" else [(3, 4), (4,), (1, 4)]:
            label = f"{reduction}_weight{list(weight_shape)}"
            cases += [
                Case(
                    f"binary_cross_entropy_{label}",
                    lambda lib, p, y, w, r=reduction: F(lib).binary_cross_entropy(p, y, weight=w, reduction=r),
                    make_inputs=binary_inputs((3, 4), weight_shape=weight_shape),
                    grad_inputs=(0, 1),
                    noncontiguous=False,
                ),
                Case(
                    f"binary_cross_entropy_with_logits_{label}",
                    lambda lib, x, y, w, r=reduction: F(lib).binary_cross_entropy_with_logits(
                        x, y, weight=w, reduction=r
                    ),
                    make_inputs=binary_inputs((3, 4), logits=True, weight_shape=weight_shape),
                    grad_inputs=(0, 1),
                    noncontiguous=False,
                ),
            ]
        for pos_weight_shape in [(4,)] if reduction != "mean" else [(4,), (3, 4), ()]:
            cases.append(
                Case(
                    f"binary_cross_entropy_with_logits_{reduction}_pos_weight{list(pos_weight_shape)}",
                    lambda lib, x, y, w, pw, r=reduction: F(lib).binary_cross_entropy_with_logits(
                        x, y, weight=w, pos_weight=pw, reduction=r
                    ),
                    make_inputs=binary_inputs(
                        (3, 4), logits=True, weight_shape=(4,), pos_weight_shape=pos_weight_shape
                    ),
                    grad_inputs=(0, 1),
                    noncontiguous=pos_weight_shape == (4,),
                ),
            )
    return cases


def _kl_cases():
    cases = []
    for reduction in (*REDUCTIONS, "batchmean"):
        for shape, target_shape in [((3, 4), None), ((2, 3, 2), (3, 2)), ((0, 3), None), ((), None)]:
            label = f"{reduction}{list(shape)}" + ("" if target_shape is None else f"x{list(target_shape)}")
            cases.append(
                Case(
                    f"kl_div_{label}",
                    lambda lib, x, y, r=reduction: F(lib).kl_div(x, y, reduction=r),
                    shapes=(shape,),
                    make_inputs=kl_inputs(shape, target_shape),
                )
            )
        for shape, target_shape in [((3, 4), None), ((2, 3, 2), (3, 2))]:
            label = f"{reduction}{list(shape)}" + ("" if target_shape is None else f"x{list(target_shape)}")
            cases += [
                Case(
                    f"kl_div_log_target_{label}",
                    lambda lib, x, y, r=reduction: F(lib).kl_div(x, y, reduction=r, log_target=True),
                    shapes=(shape,),
                    make_inputs=kl_inputs(shape, target_shape, log_target=True),
                ),
            ]
    return cases


CASES = _regression_cases() + _cross_entropy_cases() + _binary_cases() + _kl_cases()


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize(("case", "layout"), parametrize_cases(CASES))
def test_loss(case, layout):
    check_case(case, layout=layout)


# ---------------------------------------------------- second derivatives vs PyTorch


def _hessian_vector_products(fn, arrays, grad_inputs, seed=0):
    """For both libraries: the gradient of <d loss / d inputs, v> with respect to the
    inputs (a Hessian-vector product), for the same random direction v."""
    rng = np.random.default_rng(seed)
    directions = [rng.standard_normal(arrays[i].shape) for i in grad_inputs]
    results = []
    for lib, make, grad in [
        (rg, lambda a: rg.from_numpy(a.copy()), rg.autograd.grad),
        (torch, lambda a: torch.from_numpy(a.copy()), torch.autograd.grad),
    ]:
        tensors = [make(a) for a in arrays]
        differentiable = [tensors[i].requires_grad_(True) for i in grad_inputs]
        loss = fn(lib, *tensors)
        outer = make(np.random.default_rng(seed + 1).standard_normal(loss.shape))
        firsts = grad([loss], differentiable, [outer], create_graph=True)
        total = sum((g * make(v)).sum() for g, v in zip(firsts, directions, strict=True))
        results.append(grad([total], differentiable, allow_unused=True))
    return results


SECOND_ORDER = [
    ("cross_entropy_weight_smoothing_ignore", lambda lib, x, t, w: F(lib).cross_entropy(x, t, weight=w, label_smoothing=0.2),
     class_inputs((5, 4), ignore=True, weight=True), (0,)),
    ("cross_entropy_kdim_none", lambda lib, x, t: F(lib).cross_entropy(x, t, reduction="none"),
     class_inputs((2, 3, 4)), (0,)),
    ("cross_entropy_probabilities", lambda lib, x, p: F(lib).cross_entropy(x, p, label_smoothing=0.1),
     probability_inputs((4, 3)), (0, 1)),
    ("binary_cross_entropy", lambda lib, p, y, w: F(lib).binary_cross_entropy(p, y, weight=w),
     binary_inputs((3, 4), weight_shape=(4,)), (0, 1)),
    ("binary_cross_entropy_with_logits", lambda lib, x, y, w, pw: F(lib).binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw),
     binary_inputs((3, 4), logits=True, weight_shape=(4,), pos_weight_shape=(4,)), (0, 1)),
    ("kl_div", lambda lib, x, y: F(lib).kl_div(x, y, reduction="batchmean"), kl_inputs((3, 4)), (0, 1)),
    ("huber_loss", lambda lib, x, y: F(lib).huber_loss(x, y, delta=0.5), regression_inputs((3, 4), kinks=(0.5,)), (0, 1)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fn", "make_inputs", "grad_inputs"), SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_second_derivatives_match_pytorch(name, fn, make_inputs, grad_inputs):
    arrays = [np.asarray(a) for a in make_inputs(np.random.default_rng(1))]
    ours, theirs = _hessian_vector_products(fn, arrays, grad_inputs)
    for position, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        expected = b if b is not None else torch.zeros(arrays[grad_inputs[position]].shape, dtype=torch.float64)
        actual = a if a is not None else rg.zeros(*arrays[grad_inputs[position]].shape, dtype=rg.float64)
        assert_close(actual, expected, f"{name}: second derivative for input {grad_inputs[position]}")


# ----------------------------------------------------------------- stability

EXTREME_LOGITS = np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, 1e4, 1e4, -3.0], [-1e4, -1e4, -1e4, -1e4]])
EXTREME_TARGETS = np.array([1, 0, 3])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("weighted", "label_smoothing"), [(False, 0.0), (True, 0.0), (False, 0.2), (True, 0.3)])
def test_cross_entropy_is_finite_and_exact_at_extreme_logits(reduction, weighted, label_smoothing):
    weight = np.array([0.5, 2.0, 1.0, 1.5])
    results = []
    for lib in (rg, torch):
        x = lib.tensor(EXTREME_LOGITS, dtype=lib.float64, requires_grad=True)
        w = lib.tensor(weight, dtype=lib.float64) if weighted else None
        loss = F(lib).cross_entropy(
            x, lib.tensor(EXTREME_TARGETS), weight=w, reduction=reduction, label_smoothing=label_smoothing
        )
        loss.sum().backward()
        results.append((loss, x.grad))
    (loss, grad), (torch_loss, torch_grad) = results
    assert np.isfinite(loss.detach().numpy()).all() and np.isfinite(grad.numpy()).all()
    assert_close(loss, torch_loss, "cross_entropy at +-1e4: value")
    assert_close(grad, torch_grad, "cross_entropy at +-1e4: gradient")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_binary_cross_entropy_with_logits_is_finite_and_exact_at_extreme_logits(reduction, pos_weight):
    logits = np.array([1e4, -1e4, 1e4, -1e4, 0.0, 40.0, -40.0])
    targets = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.3, 0.7])
    results = []
    for lib in (rg, torch):
        x = lib.tensor(logits, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(targets, dtype=lib.float64, requires_grad=True)
        pw = None if pos_weight is None else lib.tensor([pos_weight], dtype=lib.float64)
        loss = F(lib).binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction=reduction)
        loss.sum().backward()
        results.append((loss, x.grad, y.grad))
    ours, theirs = results
    for what, a, b in zip(("value", "input gradient", "target gradient"), ours, theirs, strict=True):
        array = a.detach().numpy()
        assert np.isfinite(array).all(), what
        assert_close(a, b, f"binary_cross_entropy_with_logits at +-1e4: {what}")


def test_logsigmoid_is_finite_and_exact_in_both_tails():
    values = [-1e4, -800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0, 1e4]
    x = rg.tensor(values, dtype=rg.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    RF.logsigmoid(x).sum().backward()
    TF.logsigmoid(t).sum().backward()
    assert_close(RF.logsigmoid(x), TF.logsigmoid(t), "logsigmoid value")
    assert_close(x.grad, t.grad, "logsigmoid gradient")


def test_binary_cross_entropy_clamps_the_log_at_minus_100_like_pytorch():
    p_values, y_values = [0.0, 1.0, 1e-50, 1.0 - 1e-12, 0.5], [1.0, 0.0, 0.3, 0.1, 0.5]
    results = []
    for lib in (rg, torch):
        p = lib.tensor(p_values, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(y_values, dtype=lib.float64, requires_grad=True)
        loss = F(lib).binary_cross_entropy(p, y, reduction="none")
        loss.sum().backward()
        results.append((loss, p.grad, y.grad))
    (loss, p_grad, y_grad), (torch_loss, torch_p_grad, torch_y_grad) = results
    assert loss.detach().numpy()[:2].tolist() == [100.0, 100.0]
    assert_close(loss, torch_loss, "binary_cross_entropy value")
    np.testing.assert_allclose(p_grad.numpy(), torch_p_grad.numpy(), rtol=1e-12)  # up to -1e12 at p = 0
    finite = np.isfinite(torch_y_grad.numpy())
    np.testing.assert_allclose(y_grad.numpy()[finite], torch_y_grad.numpy()[finite], rtol=1e-12)


def test_float32_losses_stay_float32_and_agree_with_float64():
    rng = np.random.default_rng(0)
    logits, targets = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    for fn in [
        lambda x: RF.cross_entropy(x, rg.tensor(targets), label_smoothing=0.1),
        lambda x: RF.nll_loss(x, rg.tensor(targets)),
        lambda x: RF.mse_loss(x, x.detach() * 0.5),
        lambda x: RF.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
        lambda x: RF.kl_div(x.log_softmax(1), x.detach().softmax(0), reduction="batchmean"),
    ]:
        single = fn(rg.tensor(logits, dtype=rg.float32))
        double = fn(rg.tensor(logits, dtype=rg.float64))
        assert single.dtype == rg.float32
        np.testing.assert_allclose(single.item(), double.item(), rtol=1e-5)


# ------------------------------------------------------- PyTorch's conventions


def test_mean_over_only_ignored_targets_is_nan_with_zero_gradient():
    for lib in (rg, torch):
        x = lib.tensor(np.ones((3, 4)), dtype=lib.float64, requires_grad=True)
        for smoothing in (0.0, 0.2):
            loss = F(lib).cross_entropy(x, lib.tensor([-100, -100, -100]), label_smoothing=smoothing)
            loss.backward()
            assert math.isnan(loss.item())
            assert (x.grad.numpy() == 0).all()
            x.grad = None


def test_cross_entropy_mean_divides_by_the_summed_weights_of_kept_targets():
    x = rg.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0], [0.5, 0.5, 0.5]], dtype=rg.float64)
    weight = rg.tensor([1.0, 2.0, 4.0], dtype=rg.float64)
    targets = rg.tensor([2, 0, -100])
    per_sample = RF.cross_entropy(x, targets, weight=weight, reduction="none")
    mean = RF.cross_entropy(x, targets, weight=weight)
    assert per_sample[2].item() == 0.0
    assert mean.item() == pytest.approx(per_sample.sum().item() / 5.0)


def test_loss_outputs_have_pytorch_shapes():
    x, t = rg.randn(2, 3, 4, 5), rg.randint(0, 3, (2, 4, 5))
    assert RF.cross_entropy(x, t, reduction="none").shape == (2, 4, 5)
    assert RF.cross_entropy(x, t).shape == ()
    assert RF.cross_entropy(rg.randn(3), rg.tensor(1), reduction="none").shape == ()
    assert RF.cross_entropy(rg.randn(3), rg.tensor([1]), reduction="none").shape == ()
    assert RF.cross_entropy(x, x.softmax(1), reduction="none").shape == (2, 4, 5)
    assert RF.nll_loss(rg.randn(4, 3), rg.tensor([0, 1, 2, 0]), reduction="none").shape == (4,)
    assert RF.kl_div(rg.randn(3, 4), rg.rand(3, 4), reduction="batchmean").shape == ()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_input_takes_a_target_of_size_one(reduction):
    # PyTorch accepts this forward, but its backward fails on it ("size mismatch"),
    # so the gradient is checked against the equivalent 0-d target instead.
    logits = np.array([0.5, -1.0, 2.0, 0.0])
    x = rg.tensor(logits, requires_grad=True)
    x0 = rg.tensor(logits, requires_grad=True)
    loss = RF.cross_entropy(x, rg.tensor([2]), reduction=reduction)
    same = RF.cross_entropy(x0, rg.tensor(2), reduction=reduction)
    theirs = TF.cross_entropy(torch.tensor(logits), torch.tensor([2]), reduction=reduction)
    assert_close(loss, theirs, "value")
    loss.backward()
    same.backward()
    assert_close(x.grad, x0.grad.numpy(), "gradient")


def test_grad_fn_names():
    x = rg.randn(3, 4, requires_grad=True)
    assert RF.cross_entropy(x, rg.tensor([0, 1, 2])).grad_fn.name() == "CrossEntropyLossBackward0"
    assert RF.nll_loss(x, rg.tensor([0, 1, 2])).grad_fn.name() == "NllLossBackward0"
    assert RF.binary_cross_entropy(x.sigmoid(), rg.rand(3, 4), reduction="none").grad_fn.name() == (
        "BinaryCrossEntropyBackward0"
    )
    assert RF.logsigmoid(x).grad_fn.name() == "LogSigmoidBackward0"


# ------------------------------------------------------------------ warnings


def test_regression_losses_warn_when_the_target_broadcasts():
    x, y = rg.randn(4, 3), rg.randn(3)
    for fn in (RF.mse_loss, RF.l1_loss, RF.huber_loss, RF.smooth_l1_loss):
        with pytest.warns(UserWarning, match="Using a target size"):
            fn(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RF.mse_loss(x, rg.randn(4, 3))


def test_kl_div_mean_warns_and_batchmean_does_not():
    x, y = rg.randn(2, 3), rg.rand(2, 3)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        RF.kl_div(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RF.kl_div(x, y, reduction="batchmean")


@pytest.mark.parametrize(
    ("size_average", "reduce", "reduction"),
    [(None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none")],
)
def test_legacy_size_average_and_reduce(size_average, reduce, reduction):
    x, y = rg.randn(3, 4), rg.randn(3, 4)
    with pytest.warns(UserWarning, match=f"please use reduction='{reduction}' instead"):
        legacy = RF.mse_loss(x, y, size_average=size_average, reduce=reduce)
    assert_close(legacy, RF.mse_loss(x, y, reduction=reduction), "legacy reduction")


# -------------------------------------------------------------------- errors

ERRORS = [
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.tensor([0, 7, 1])), IndexError,
     r"cross_entropy: Target 7 is out of bounds\. .*\[0, 5\) \(5 classes\)"),
    (lambda: RF.nll_loss(rg.randn(3, 5), rg.tensor([0, -1, 1])), IndexError, r"nll_loss: Target -1 is out of bounds.*5 classes"),
    (lambda: RF.cross_entropy(rg.randn(2, 5, 3), rg.tensor([[2, 0, 9], [1, 1, 1]])), IndexError, "Target 9 is out of bounds"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.tensor([0, 1])), ValueError,
     r"cross_entropy: Expected input batch_size \(3\) to match target batch_size \(2\)"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.tensor([0, 1, 2], dtype=rg.int32)), RuntimeError,
     "cross_entropy: expected target dtype to be int64.*got int32"),
    (lambda: RF.nll_loss(rg.randn(3, 5), rg.tensor([0.0, 1.0, 2.0])), RuntimeError, "nll_loss: expected target dtype"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.zeros(3, 5, dtype=rg.int64)), RuntimeError,
     "Expected floating point type for target with class probabilities, got int64"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.tensor([[0, 1, 2]])), ValueError, "batch_size"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.zeros(3, 1, dtype=rg.int64)), RuntimeError,
     "0D or 1D target tensor expected"),
    (lambda: RF.cross_entropy(rg.randn(2, 5, 3), rg.tensor([2, 0])), RuntimeError, r"Expected target size \[2, 3\], got \[2\]"),
    (lambda: RF.cross_entropy(rg.randn(5), rg.tensor([1, 2])), ValueError, "For 1D input, 1D target must have size 1"),
    (lambda: RF.nll_loss(rg.tensor(1.0), rg.tensor(0)), ValueError, r"Expected 1 or more dimensions \(got 0\)"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.tensor([0, 1, 2]), weight=rg.ones(4)), RuntimeError,
     r"weight tensor should be defined either for all 5 classes.*\[4\]"),
    (lambda: RF.cross_entropy(rg.randn(3, 5, dtype=rg.float64), rg.tensor([0, 1, 2]), weight=rg.ones(5)), RuntimeError,
     "expected weight of dtype float64"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.tensor([0, 1, 2]), weight=rg.ones(5, requires_grad=True)), RuntimeError,
     "not differentiable with respect to argument 'weight'"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.tensor([0, 1, 2]), reduction="avg"), ValueError,
     "cross_entropy: avg is not a valid value for reduction"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.tensor([0, 1, 2]), label_smoothing=1.5), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    (lambda: RF.cross_entropy(rg.randn(3, 5), rg.rand(3, 5), ignore_index=1), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda: RF.cross_entropy(rg.randn(3, 5).long(), rg.tensor([0, 1, 2])), RuntimeError, "expected a floating-point input"),
    (lambda: RF.cross_entropy([[1.0, 2.0]], rg.tensor([0])), TypeError, "argument 'input' must be Tensor, not list"),
    (lambda: RF.mse_loss(rg.randn(3), 1.0), TypeError, "mse_loss\\(\\): argument 'target' must be Tensor, not float"),
    (lambda: RF.mse_loss(rg.tensor([1, 2]), rg.tensor([1, 2])), RuntimeError, "mse_loss: expected floating-point"),
    (lambda: RF.mse_loss(rg.randn(3), rg.randn(3), weight=rg.ones(2)), ValueError, "Weights and input must have the same size"),
    (lambda: RF.l1_loss(rg.randn(3), rg.randn(3), reduction="batchmean"), ValueError, "l1_loss: batchmean is not a valid"),
    (lambda: RF.huber_loss(rg.randn(3), rg.randn(3), delta=0.0), RuntimeError,
     "huber_loss does not support non-positive values for delta"),
    (lambda: RF.smooth_l1_loss(rg.randn(3), rg.randn(3), beta=-1.0), RuntimeError,
     "smooth_l1_loss does not support negative values for beta"),
    (lambda: RF.binary_cross_entropy(rg.rand(4), rg.rand(3)), ValueError,
     r"binary_cross_entropy: Using a target size .*\[3\].* that is different to the input size"),
    (lambda: RF.binary_cross_entropy(rg.rand(4) * 2, rg.rand(4)), RuntimeError, "all elements of input should be between 0 and 1"),
    (lambda: RF.binary_cross_entropy(rg.rand(2, 3), rg.rand(2, 3), weight=rg.rand(4)), RuntimeError,
     r"weight of shape \[4\] cannot be broadcast to the input's shape \[2, 3\]"),
    (lambda: RF.binary_cross_entropy_with_logits(rg.rand(4), rg.rand(3)), ValueError, "Target size .* must be the same as input size"),
    (lambda: RF.binary_cross_entropy_with_logits(rg.rand(2, 3), rg.rand(2, 3), pos_weight=rg.rand(2, 2, 3)), RuntimeError,
     r"pos_weight of shape \[2, 2, 3\] cannot be broadcast"),
    (lambda: RF.kl_div(rg.randn(3), rg.tensor([1, 0, 1]), reduction="sum"), RuntimeError, "kl_div: Integral inputs not supported"),
    (lambda: RF.kl_div(rg.randn(3), rg.rand(3), reduction="batch"), ValueError, "kl_div: batch is not a valid value"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "match"), ERRORS)
def test_errors_name_the_function_and_what_was_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_ignore_index_may_lie_outside_the_classes():
    for lib in (rg, torch):
        x = lib.tensor(np.arange(6.0).reshape(2, 3))
        assert F(lib).cross_entropy(x, lib.tensor([0, 5]), ignore_index=5).item() == pytest.approx(2.40760596444438)
