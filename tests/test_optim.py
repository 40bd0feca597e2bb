"""Optimizers: 50 training steps of a small two-layer net in retrograd and in
PyTorch must end at the same parameters, for every optimizer option; plus
parameter groups, state dicts, zero_grad, closures, errors and the L1/L2
penalties."""

import copy
import re
import warnings

import numpy as np
import pytest

import retrograd as rg
import retrograd.optim as optim
from retrograd.optim.regularization import l1_penalty, l2_penalty

torch = pytest.importorskip("torch")

STEPS = 50
RTOL = 1e-8

# ------------------------------------------------------------------ the model
# A 4-3-1 network written with elementwise ops only, identically for both
# libraries: softplus hidden layer, squared-error loss.
_rng = np.random.default_rng(1234)
X = _rng.normal(size=(8, 4, 1))
Y = _rng.normal(size=(8,))
INITIAL = {
    "w1": _rng.normal(scale=0.5, size=(4, 3)),
    "b1": _rng.normal(scale=0.1, size=(3,)),
    "w2": _rng.normal(scale=0.5, size=(3,)),
    "b2": _rng.normal(scale=0.1, size=()),
}
NAMES = list(INITIAL)


def make_params(lib, values=INITIAL):
    return [lib.tensor(np.array(values[name]), requires_grad=True) for name in NAMES]


def model_loss(lib, params, sign=1.0):
    w1, b1, w2, b2 = params
    x = lib.tensor(X)
    hidden = ((x * w1).sum(1) + b1).exp()
    hidden = (hidden + 1).log()
    out = (hidden * w2).sum(1) + b2
    loss = ((out - lib.tensor(Y)) ** 2).mean()
    return loss * sign


def lib_optim(lib):
    return optim if lib is rg else torch.optim


def train(lib, make_optimizer, steps=STEPS, params=None, optimizer=None, sign=1.0):
    """Run ``steps`` steps; returns the parameters and the optimizer."""
    params = make_params(lib) if params is None else params
    optimizer = make_optimizer(lib_optim(lib), params) if optimizer is None else optimizer
    for _ in range(steps):
        optimizer.zero_grad()
        model_loss(lib, params, sign).backward()
        optimizer.step()
    return params, optimizer


def as_numpy(t):
    return t.detach().numpy()


def assert_params_close(rg_params, torch_params, rtol=RTOL):
    for name, a, b in zip(NAMES, rg_params, torch_params):
        np.testing.assert_allclose(as_numpy(a), as_numpy(b), rtol=rtol, atol=1e-14, err_msg=name)


# ------------------------------------------------------------------ option matrix
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.05, "nesterov": True}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01, "maximize": True}),
    ("SGD", {}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9)}),  # 1 - beta1 >= 0.5: lerp's other rounding branch
    ("Adam", {"lr": 0.01, "maximize": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("AdamW", {}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.005, "centered": True}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.002, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.5, "maximize": True}),
]


def case_id(case):
    name, kwargs = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch_over_50_steps(case):
    name, kwargs = case
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize the negated loss so training converges

    def make(lib_opt, params):
        return getattr(lib_opt, name)(params, **kwargs)

    rg_params, rg_opt = train(rg, make, sign=sign)
    torch_params, torch_opt = train(torch, make, sign=sign)
    assert_params_close(rg_params, torch_params)

    # The state holds the same buffers under the same keys.
    rg_state = rg_opt.state_dict()
    torch_state = torch_opt.state_dict()
    assert rg_state["state"].keys() == torch_state["state"].keys()
    for index, buffers in torch_state["state"].items():
        assert rg_state["state"][index].keys() == buffers.keys()
        for key, value in buffers.items():
            np.testing.assert_allclose(np.asarray(rg_state["state"][index][key]), value.numpy(), rtol=1e-7, atol=1e-12)
    assert [sorted(g) for g in rg_state["param_groups"]] == [sorted(g) for g in torch_state["param_groups"]]
    # And the loss went down.
    assert model_loss(rg, rg_params).item() < model_loss(rg, make_params(rg)).item()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_repr_and_defaults_match_torch(name):
    rg_opt = getattr(optim, name)(make_params(rg))
    torch_opt = getattr(torch.optim, name)(make_params(torch))
    assert repr(rg_opt) == repr(torch_opt)
    assert rg_opt.defaults == torch_opt.defaults


def test_default_learning_rates():
    params = make_params(rg)
    assert optim.SGD(params).defaults["lr"] == 1e-3
    assert optim.Adam(params).defaults["lr"] == 1e-3
    assert optim.AdamW(params).defaults["weight_decay"] == 1e-2
    assert optim.RMSprop(params).defaults["lr"] == 1e-2
    assert optim.RMSprop(params).defaults["alpha"] == 0.99
    assert optim.Adagrad(params).defaults["eps"] == 1e-10


# ------------------------------------------------------------------ parameter groups
GROUP_CASES = [
    ("SGD", {"lr": 0.01, "momentum": 0.9}, {"lr": 0.1, "nesterov": True}),
    ("Adam", {"lr": 0.001}, {"lr": 0.02, "amsgrad": True, "betas": (0.8, 0.9)}),
    ("AdamW", {"lr": 0.001}, {"lr": 0.02, "weight_decay": 0.2}),
    ("RMSprop", {"lr": 0.001}, {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.01}, {"lr": 0.1, "lr_decay": 0.1}),
]


@pytest.mark.parametrize("case", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_with_their_own_hyperparameters(case):
    name, defaults, overrides = case

    def make(lib_opt, params):
        groups = [{"params": params[:2], **overrides}, {"params": params[2:]}]
        return getattr(lib_opt, name)(groups, **defaults)

    rg_params, rg_opt = train(rg, make)
    torch_params, _ = train(torch, make)
    assert_params_close(rg_params, torch_params)
    assert rg_opt.param_groups[0]["lr"] == overrides["lr"]
    assert rg_opt.param_groups[1]["lr"] == defaults["lr"]


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad"])
def test_add_param_group_mid_training(name):
    def run(lib):
        params = make_params(lib)
        opt = getattr(lib_optim(lib), name)(params[:2], lr=0.05)
        train(lib, None, steps=10, params=params, optimizer=opt)
        opt.add_param_group({"params": params[2:], "lr": 0.01})
        train(lib, None, steps=10, params=params, optimizer=opt)
        return params, opt

    rg_params, rg_opt = run(rg)
    torch_params, _ = run(torch)
    assert_params_close(rg_params, torch_params)
    assert rg_opt.param_groups[1]["lr"] == 0.01
    assert "weight_decay" in rg_opt.param_groups[1]  # filled from the defaults


def test_named_parameters_are_accepted():
    params = make_params(rg)
    opt = optim.SGD(list(zip(NAMES, params)), lr=0.1)
    assert opt.param_groups[0]["param_names"] == NAMES
    assert opt.param_groups[0]["params"][0] is params[0]
    assert opt.state_dict()["param_groups"][0]["param_names"] == NAMES


# ------------------------------------------------------------------ state dicts
RESUME_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.005, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
]


@pytest.mark.parametrize("case", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_state_dict_resume_continues_identically(case):
    name, kwargs = case

    def make(lib_opt, params):
        return getattr(lib_opt, name)(params, **kwargs)

    straight, _ = train(rg, make, steps=50)

    params, opt = train(rg, make, steps=25)
    saved_state = copy.deepcopy(opt.state_dict())
    saved_values = {n: as_numpy(p).copy() for n, p in zip(NAMES, params)}
    del params, opt

    resumed_params = make_params(rg, saved_values)
    resumed_opt = make(optim, resumed_params)
    resumed_opt.load_state_dict(saved_state)
    train(rg, None, steps=25, params=resumed_params, optimizer=resumed_opt)
    for name_, a, b in zip(NAMES, straight, resumed_params):
        np.testing.assert_array_equal(as_numpy(a), as_numpy(b), err_msg=name_)


def test_state_dict_layout():
    params = make_params(rg)
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], lr=0.01)
    model_loss(rg, params).backward()
    opt.step()
    state = opt.state_dict()
    assert list(state) == ["state", "param_groups"]
    assert [g["params"] for g in state["param_groups"]] == [[0], [1, 2, 3]]
    assert set(state["state"]) == {0, 1, 2, 3}
    assert set(state["state"][1]) == {"step", "exp_avg", "exp_avg_sq"}
    assert isinstance(state["state"][1]["exp_avg"], rg.Tensor)
    assert state["state"][1]["exp_avg"].dtype == rg.float64
    assert state["state"][1]["step"].item() == 1.0
    assert state["param_groups"][1]["lr"] == 0.1


def test_load_state_dict_copies_and_casts():
    params = make_params(rg)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    model_loss(rg, params).backward()
    opt.step()
    saved = opt.state_dict()

    float32_params = [p.detach().float().requires_grad_() for p in params]
    other = optim.SGD(float32_params, lr=0.5, momentum=0.5)
    other.load_state_dict(saved)
    buffer = other.state[float32_params[0]]["momentum_buffer"]
    assert buffer.dtype == rg.float32  # cast to the parameter's dtype
    assert other.param_groups[0]["lr"] == 0.1  # hyperparameters come from the state dict
    assert other.param_groups[0]["params"][0] is float32_params[0]
    source = opt.state[params[0]]["momentum_buffer"]
    source._data += 1  # later steps of the first optimizer must not leak into the second
    assert not np.allclose(buffer._data, source._data.astype(np.float32))


def test_load_state_dict_rejects_mismatched_groups():
    params = make_params(rg)
    opt = optim.Adam(params)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})


def test_load_state_dict_accepts_numeric_step():
    params = make_params(rg)
    opt = optim.Adam(params, lr=0.01)
    model_loss(rg, params).backward()
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    for buffers in saved["state"].values():
        buffers["step"] = 1.0
    opt.load_state_dict(saved)
    opt.step()
    assert opt.state[params[0]]["step"].item() == 2.0


def test_adagrad_state_is_created_at_construction():
    params = make_params(rg)
    opt = optim.Adagrad(params, initial_accumulator_value=0.25)
    torch_opt = torch.optim.Adagrad(make_params(torch), initial_accumulator_value=0.25)
    state = opt.state_dict()["state"]
    assert state.keys() == torch_opt.state_dict()["state"].keys()
    np.testing.assert_array_equal(state[0]["sum"].numpy(), np.full((4, 3), 0.25))
    assert state[0]["step"].item() == 0.0


# ------------------------------------------------------------------ stepping details


def test_zero_grad():
    params = make_params(rg)
    opt = optim.SGD(params, lr=0.1)
    model_loss(rg, params).backward()
    grad_array = params[0].grad._data
    opt.zero_grad(set_to_none=False)
    assert params[0].grad._data is grad_array  # zeroed in place
    assert all(np.all(p.grad.numpy() == 0) for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_with_closure_returns_the_loss():
    params = make_params(rg)
    reference = make_params(rg)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    ref_opt = optim.SGD(reference, lr=0.1, momentum=0.9)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = model_loss(rg, params)
        loss.backward()
        return loss

    with rg.no_grad():  # the closure still records its graph
        for _ in range(5):
            loss = opt.step(closure)
            assert isinstance(loss, rg.Tensor)
    train(rg, None, steps=5, params=reference, optimizer=ref_opt)
    assert len(calls) == 5
    for a, b in zip(params, reference):
        np.testing.assert_array_equal(as_numpy(a), as_numpy(b))
    assert opt.step() is None


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_step_updates_in_place_and_bumps_version(name):
    params = make_params(rg)
    opt = getattr(optim, name)(params, lr=0.1)
    arrays = [p._data for p in params]
    versions = [p._version for p in params]
    model_loss(rg, params).backward()
    params[3].grad = None  # a parameter without a gradient is skipped
    before = params[3]._data.copy()
    opt.step()
    assert all(p._data is a for p, a in zip(params, arrays))
    assert [p._version for p in params[:3]] == [v + 1 for v in versions[:3]]
    assert params[3]._version == versions[3]
    np.testing.assert_array_equal(params[3]._data, before)
    if name != "Adagrad":  # Adagrad creates its state up front, like PyTorch
        assert params[3] not in opt.state


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_float32_parameters_keep_their_dtype(name):
    def make(lib_opt, params):
        kwargs = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
        return getattr(lib_opt, name)(params, lr=0.01, **kwargs)

    values = {k: np.asarray(v, dtype=np.float32) for k, v in INITIAL.items()}
    rg_params = make_params(rg, values)
    torch_params = make_params(torch, values)
    rg_opt = make(optim, rg_params)
    for _ in range(3):
        rg_opt.zero_grad()
        model_loss(rg, [p.double() for p in rg_params]).backward()
        rg_opt.step()
    torch_opt = make(torch.optim, torch_params)
    for _ in range(3):
        torch_opt.zero_grad()
        model_loss(torch, [p.double() for p in torch_params]).backward()
        torch_opt.step()
    for p, q in zip(rg_params, torch_params):
        assert p.dtype == rg.float32
        np.testing.assert_allclose(as_numpy(p), as_numpy(q), rtol=1e-5, atol=1e-6)
    for buffers in rg_opt.state.values():
        for key, value in buffers.items():
            if key != "step":
                assert value.dtype == rg.float32


def test_functional_forms():
    from retrograd.optim.adam import adam
    from retrograd.optim.sgd import sgd

    param = rg.tensor([1.0, -2.0], requires_grad=True)
    grad = rg.tensor([0.5, 0.25])
    buffers = [None]
    sgd([param], [grad], buffers, weight_decay=0, momentum=0.9, lr=0.1, dampening=0, nesterov=False, maximize=False)
    np.testing.assert_allclose(param.detach().numpy(), [0.95, -2.025])
    np.testing.assert_allclose(buffers[0].numpy(), [0.5, 0.25])

    param = rg.tensor([1.0, -2.0], requires_grad=True)
    m, v, step = rg.zeros(2), rg.zeros(2), rg.tensor(0.0)
    adam([param], [grad], [m], [v], [], [step], amsgrad=False, beta1=0.9, beta2=0.999, lr=0.1,
         weight_decay=0, eps=1e-8, maximize=False)  # fmt: skip
    # Adam's first step moves each coordinate by lr against the gradient's sign.
    np.testing.assert_allclose(param.detach().numpy(), [0.9, -2.1], rtol=1e-6)
    assert step.item() == 1.0


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: optim.SGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
        (lambda p: optim.Adam(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda p: optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda p: optim.AdamW(p, weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
        (lambda p: optim.RMSprop(p, alpha=-0.9), "Invalid alpha value: -0.9"),
        (lambda p: optim.RMSprop(p, momentum=-0.9), "Invalid momentum value: -0.9"),
        (lambda p: optim.Adagrad(p, lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value"),
        (lambda p: optim.Adam(p, differentiable=True), "differentiable=True is not supported"),
        (lambda p: optim.RMSprop(p, capturable=True), "capturable=True"),
    ],
)
def test_invalid_hyperparameters(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make(make_params(rg))


def test_invalid_parameter_lists():
    params = make_params(rg)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match=r"should be an iterable of Tensors or dicts, but got retrograd\.Tensor"):
        optim.SGD(params[0])
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is float"):
        optim.SGD([params[0], 1.5])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([params[0] * 2])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {params[0]}}])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": params[:2]}, {"params": params[1:]}])
    opt = optim.SGD(params[:2])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": params[1]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group(params[2:])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optim.SGD([params[0], params[0]])
    assert any("duplicate parameters" in str(w.message) for w in caught)


def test_step_is_abstract_in_the_base_class():
    opt = optim.Optimizer(make_params(rg), {"lr": 0.1})
    with pytest.raises(NotImplementedError):
        opt.step()


# ------------------------------------------------------------------ regularization


@pytest.mark.parametrize(
    "penalty, torch_term", [(l1_penalty, lambda p: p.abs().sum()), (l2_penalty, lambda p: (p**2).sum())]
)
def test_penalties_match_torch(penalty, torch_term):
    values = dict(INITIAL, b1=np.array([0.0, 0.3, -0.2]))  # a zero: |w|'s gradient there is 0
    rg_params = make_params(rg, values)
    torch_params = make_params(torch, values)
    rg_value = penalty(rg_params, 0.01)
    torch_value = sum(torch_term(p) for p in torch_params) * 0.01
    np.testing.assert_allclose(rg_value.item(), torch_value.item(), rtol=1e-12)
    assert rg_value.shape == () and rg_value.requires_grad
    rg_value.backward()
    torch_value.backward()
    for a, b in zip(rg_params, torch_params):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_l2_penalty_with_sgd_equals_weight_decay_twice_the_weight():
    def penalised(lib_params):
        opt = optim.SGD(lib_params, lr=0.1, momentum=0.5)
        for _ in range(20):
            opt.zero_grad()
            (model_loss(rg, lib_params) + l2_penalty(lib_params, 0.05)).backward()
            opt.step()
        return lib_params

    decayed, _ = train(rg, lambda o, p: o.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.1), steps=20)
    for a, b in zip(penalised(make_params(rg)), decayed):
        np.testing.assert_allclose(as_numpy(a), as_numpy(b), rtol=1e-12)


def test_penalty_is_not_decoupled_weight_decay():
    def with_penalty():
        params = make_params(rg)
        opt = optim.Adam(params, lr=0.01)
        for _ in range(10):
            opt.zero_grad()
            (model_loss(rg, params) + l2_penalty(params, 0.05)).backward()
            opt.step()
        return params

    decoupled, _ = train(rg, lambda o, p: o.AdamW(p, lr=0.01, weight_decay=0.1), steps=10)
    assert not np.allclose(as_numpy(with_penalty()[0]), as_numpy(decoupled[0]), rtol=1e-6)


def test_penalty_edge_cases_and_errors():
    w = rg.tensor([3.0, -4.0], requires_grad=True)
    assert l2_penalty(w, 0.5).item() == 12.5  # a single tensor is accepted
    assert l1_penalty([], 0.1).item() == 0.0
    with pytest.raises(ValueError, match="l1_penalty: weight must be non-negative, got -1"):
        l1_penalty([w], -1)
    with pytest.raises(TypeError, match="l2_penalty: parameters must be Tensors, got list at position 0"):
        l2_penalty([[1.0]], 0.1)
    with pytest.raises(TypeError, match="l2_penalty: weight must be a number"):
        l2_penalty([w], "0.1")
