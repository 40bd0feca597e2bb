"""Learning-rate schedulers: the learning rates (and cycled momenta) over 50+
steps must equal PyTorch's; state dicts must resume a schedule exactly."""

import copy
import math
import warnings

import numpy as np
import pytest

import retrograd as rg
import retrograd.optim as optim
from retrograd.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 60
LRS = (0.1, 0.05)  # two parameter groups, so per-group arguments are exercised


def lib_optim(lib):
    return optim if lib is rg else torch.optim


def make_optimizer(lib, name="SGD", **kwargs):
    params = [lib.tensor(np.ones(3), requires_grad=True), lib.tensor(np.ones(2), requires_grad=True)]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, LRS)]
    if name == "SGD":
        kwargs.setdefault("momentum", 0.9)
    return getattr(lib_optim(lib), name)(groups, **kwargs)


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def run_schedule(lib, make_scheduler, steps=STEPS, optimizer="SGD", metrics=None):
    """The learning rates (and momenta) after construction and after each step."""
    opt = make_optimizer(lib, optimizer)
    sched = make_scheduler(lib_optim(lib).lr_scheduler, opt)
    lrs = [list(sched.get_last_lr())]
    moms = [momenta(opt)]
    for i in range(steps):
        opt.step()  # no gradients: only marks that the optimizer stepped first
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append(list(sched.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
        moms.append(momenta(opt))
    return np.array(lrs), np.array(moms)


def assert_same_schedule(make_scheduler, steps=STEPS, optimizer="SGD", metrics=None):
    rg_lrs, rg_moms = run_schedule(rg, make_scheduler, steps, optimizer, metrics)
    torch_lrs, torch_moms = run_schedule(torch, make_scheduler, steps, optimizer, metrics)
    np.testing.assert_allclose(rg_lrs, torch_lrs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(rg_moms, torch_moms, rtol=1e-12, atol=0)
    return rg_lrs


SCHEDULES = {
    "LambdaLR": lambda s, o: s.LambdaLR(o, lr_lambda=lambda epoch: 0.95**epoch),
    "LambdaLR-per-group": lambda s, o: s.LambdaLR(o, lr_lambda=[lambda e: 1 / (1 + e), lambda e: 0.9 ** (e // 3)]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lr_lambda=lambda epoch: 0.97),
    "StepLR": lambda s, o: s.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-default-gamma": lambda s, o: s.StepLR(o, step_size=20),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=10),
    "ConstantLR-defaults": lambda s, o: s.ConstantLR(o),
    "LinearLR-defaults": lambda s, o: s.LinearLR(o),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.1, end_factor=0.5, total_iters=20),
    "LinearLR-decay": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=40),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.93),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=30, power=2.0),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=20, eta_min=0.001),
    "CosineAnnealingLR-no-eta": lambda s, o: s.CosineAnnealingLR(o, T_max=7),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler([s.ExponentialLR(o, gamma=0.95), s.StepLR(o, step_size=10)]),
    "SequentialLR-warmup-cosine": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.01, total_iters=5), s.CosineAnnealingLR(o, T_max=45)], milestones=[5]
    ),
    "SequentialLR-three": lambda s, o: s.SequentialLR(
        o,
        [s.ConstantLR(o, factor=0.1, total_iters=4), s.ExponentialLR(o, gamma=0.9), s.StepLR(o, step_size=5)],
        milestones=[8, 20],
    ),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=STEPS + 1),
    "OneCycleLR-linear": lambda s, o: s.OneCycleLR(
        o, max_lr=0.8, epochs=4, steps_per_epoch=16, anneal_strategy="linear", pct_start=0.25
    ),
    "OneCycleLR-three-phase": lambda s, o: s.OneCycleLR(
        o, max_lr=0.5, total_steps=STEPS, three_phase=True, div_factor=10.0, final_div_factor=100.0
    ),
    "OneCycleLR-momenta": lambda s, o: s.OneCycleLR(
        o, max_lr=1.0, total_steps=STEPS, base_momentum=[0.8, 0.7], max_momentum=0.99
    ),
    "OneCycleLR-no-momentum": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, cycle_momentum=False),
}
ONE_STEP_SHORT = {"OneCycleLR-three-phase", "OneCycleLR-momenta", "OneCycleLR-no-momentum"}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    steps = STEPS - 1 if name in ONE_STEP_SHORT else STEPS
    lrs = assert_same_schedule(SCHEDULES[name], steps=steps)
    assert len(np.unique(lrs[:, 0])) > 1  # the schedule really moved


def test_cosine_annealing_past_t_max():
    lrs = assert_same_schedule(lambda s, o: s.CosineAnnealingLR(o, T_max=10, eta_min=0.01), steps=75)
    # The cosine bottoms out at eta_min at T_max and climbs back to the initial rate at 2 T_max.
    np.testing.assert_allclose(lrs[10], [0.01, 0.01], rtol=1e-12)
    np.testing.assert_allclose(lrs[20], LRS, rtol=1e-12)
    closed_form = [0.01 + (LRS[0] - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(76)]
    np.testing.assert_allclose(lrs[:, 0], closed_form, rtol=1e-10)


@pytest.mark.parametrize("optimizer", ["Adam", "AdamW"])
def test_one_cycle_cycles_adam_beta1(optimizer):
    make = SCHEDULES["OneCycleLR"]
    rg_lrs, rg_moms = run_schedule(rg, make, optimizer=optimizer)
    torch_lrs, torch_moms = run_schedule(torch, make, optimizer=optimizer)
    np.testing.assert_allclose(rg_lrs, torch_lrs, rtol=1e-12)
    np.testing.assert_allclose(rg_moms, torch_moms, rtol=1e-12)
    assert 0.85 <= rg_moms.min() < 0.851 and rg_moms.max() == pytest.approx(0.95)


def test_one_cycle_momentum_with_sgd():
    lrs, moms = run_schedule(rg, SCHEDULES["OneCycleLR"])
    assert np.argmin(moms[:, 0]) == np.argmax(lrs[:, 0])  # momentum is lowest where the rate peaks
    assert lrs[0, 0] == pytest.approx(1.0 / 25) and lrs[-1, 0] == pytest.approx(1.0 / 25 / 1e4)
    assert moms[0, 0] == pytest.approx(0.95) and moms[-1, 0] == pytest.approx(0.95)


METRIC_SCRIPTS = {
    "min-rel": ({}, [1.0, 0.9, 0.8] + [0.8] * 15 + [0.5] + [0.6] * 30),
    "min-abs-cooldown": (
        {"patience": 2, "threshold": 0.05, "threshold_mode": "abs", "cooldown": 3, "factor": 0.5},
        [1.0, 0.97, 0.96, 0.95, 0.94] * 4 + [0.5, 0.45, 0.44] * 10,
    ),
    "max-rel": ({"mode": "max", "patience": 3, "factor": 0.2}, [0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.31] * 6),
    "max-abs-min-lr": (
        {"mode": "max", "patience": 0, "threshold": 0.1, "threshold_mode": "abs", "min_lr": [0.02, 0.001]},
        [1.0, 1.05, 1.2, 1.2, 1.2] * 10,
    ),
    "eps-skips-tiny-changes": ({"patience": 0, "factor": 0.5, "eps": 0.02}, [1.0] * 50),
}


@pytest.mark.parametrize("name", list(METRIC_SCRIPTS))
def test_reduce_lr_on_plateau_with_scripted_metrics(name):
    kwargs, metrics = METRIC_SCRIPTS[name]
    lrs = assert_same_schedule(lambda s, o: s.ReduceLROnPlateau(o, **kwargs), steps=len(metrics), metrics=metrics)
    assert lrs[-1, 0] < LRS[0]


def test_reduce_lr_on_plateau_accepts_tensor_metric_and_tracks_state():
    opt = make_optimizer(rg)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for value in [1.0, 1.0, 1.0]:
        sched.step(rg.tensor(value))
    assert sched.best == 1.0
    assert sched.get_last_lr() == [0.05, 0.025]
    assert sched.last_epoch == 3
    torch_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(torch))
    assert set(sched.state_dict()) == set(torch_sched.state_dict())


# ------------------------------------------------------------------ state dicts
RESUMABLE = [
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
    "SequentialLR-warmup-cosine",
    "OneCycleLR",
]


@pytest.mark.parametrize("name", RESUMABLE)
def test_state_dict_resumes_the_schedule(name):
    make = SCHEDULES[name]
    straight, straight_moms = run_schedule(rg, make)

    opt = make_optimizer(rg)
    sched = make(lr_scheduler, opt)
    for _ in range(25):
        opt.step()
        sched.step()
    saved_sched = copy.deepcopy(sched.state_dict())
    saved_opt = copy.deepcopy(opt.state_dict())
    assert "optimizer" not in saved_sched

    new_opt = make_optimizer(rg)
    new_sched = make(lr_scheduler, new_opt)  # build the scheduler first, then load both (as in PyTorch)
    new_sched.load_state_dict(saved_sched)
    new_opt.load_state_dict(saved_opt)
    resumed = []
    resumed_moms = []
    for _ in range(STEPS - 25):
        new_opt.step()
        new_sched.step()
        resumed.append(new_sched.get_last_lr())
        resumed_moms.append(momenta(new_opt))
    np.testing.assert_array_equal(np.array(resumed), straight[26:])
    np.testing.assert_array_equal(np.array(resumed_moms), straight_moms[26:])


@pytest.mark.parametrize("name", [n for n in SCHEDULES if n not in ("ChainedScheduler",)])
def test_state_dict_keys_match_torch(name):
    rg_sched = SCHEDULES[name](lr_scheduler, make_optimizer(rg))
    torch_sched = SCHEDULES[name](torch.optim.lr_scheduler, make_optimizer(torch))
    rg_state, torch_state = rg_sched.state_dict(), torch_sched.state_dict()
    assert set(rg_state) == set(torch_state)
    assert rg_state["last_epoch"] == torch_state["last_epoch"]
    assert rg_state.get("_step_count") == torch_state.get("_step_count")


def test_lambda_state_dict_saves_callable_objects_only():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    opt = make_optimizer(rg)
    sched = lr_scheduler.LambdaLR(opt, [Decay(0.9), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.9}, None]
    other = lr_scheduler.LambdaLR(make_optimizer(rg), [Decay(0.5), lambda e: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].rate == 0.9


# ------------------------------------------------------------------ construction and stepping


def test_construction_sets_initial_lr_and_steps_once():
    opt = make_optimizer(rg)
    sched = lr_scheduler.StepLR(opt, step_size=3)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    assert sched.base_lrs == list(LRS)
    assert sched.last_epoch == 0
    assert sched._step_count == 1
    assert sched.get_last_lr() == list(LRS)


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(rg), step_size=3, last_epoch=4)
    opt = make_optimizer(rg)
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]
    sched = lr_scheduler.StepLR(opt, step_size=3, last_epoch=4)
    assert sched.last_epoch == 5


def test_step_before_optimizer_step_warns():
    opt = make_optimizer(rg)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        sched.step()

    opt = make_optimizer(rg)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()


def test_explicit_epoch_uses_the_closed_form():
    opt = make_optimizer(rg)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    torch_opt = make_optimizer(torch)
    torch_sched = torch.optim.lr_scheduler.StepLR(torch_opt, step_size=3, gamma=0.5)
    opt.step()
    torch_opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_sched.step(7)
    assert sched.get_last_lr() == torch_sched.get_last_lr() == [0.025, 0.0125]


def test_get_lr_outside_step_warns():
    sched = lr_scheduler.ExponentialLR(make_optimizer(rg), gamma=0.9)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_one_cycle_refuses_to_step_past_total_steps():
    opt = make_optimizer(rg)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match=r"Tried to step 4 times\. The specified number of total steps is 3"):
        sched.step()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda o: lr_scheduler.StepLR("sgd", step_size=1), TypeError, "str is not an Optimizer"),
        (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
        (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=2), ValueError, "Ending multiplicative factor"),
        (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
        (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, "lr_lambda should be a function"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, "either total_steps OR"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError, "positive integer total_steps"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=9, pct_start=1.5), ValueError, "pct_start"),
        (
            lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=9, anneal_strategy="exp"),
            ValueError,
            "anneal_strategy",
        ),
        (
            lambda o: lr_scheduler.OneCycleLR(o, max_lr=[1.0], total_steps=9),
            ValueError,
            "max_lr must have the same length",
        ),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
        (
            lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], milestones=[3]),
            ValueError,
            "one more than",
        ),
        (lambda o: lr_scheduler.SequentialLR(o, [], milestones=[]), ValueError, "at least one scheduler"),
        (
            lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(make_optimizer(rg), 2)], milestones=[]),
            ValueError,
            "same optimizer",
        ),
        (
            lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(o)]),
            ValueError,
            "does not support `ReduceLROnPlateau`",
        ),
    ],
)
def test_invalid_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make(make_optimizer(rg))


def test_one_cycle_needs_momentum_when_cycling():
    opt = make_optimizer(rg, "Adagrad")
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)


def test_scheduled_rates_drive_the_optimizer():
    """The rates a scheduler sets are the ones the next optimizer step uses."""

    def run(lib):
        w = lib.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
        opt = lib_optim(lib).SGD([w], lr=0.1, momentum=0.9)
        sched = lib_optim(lib).lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=30)
        for _ in range(30):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
            sched.step()
        return w.detach().numpy()

    np.testing.assert_allclose(run(rg), run(torch), rtol=1e-12)
