"""The gradient-flow monitor and its findings.

The scenario tests train small networks on scikit-learn's 8x8 digits for a
couple of hundred steps and check what the monitor concludes: a deep sigmoid
MLP is flagged for vanishing gradients (and does not learn), the same depth
with ReLU and He init, with residual connections or with BatchNorm is not
(and learns); a too-large learning rate or initialisation is flagged for
exploding gradients, and gradient clipping cures the learning-rate case.
The unit tests check the recorded numbers against direct computations and
each detection rule on hand-made records.
"""

import dataclasses
import importlib.util
import math
import sys
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim
from retrograd.diagnose.advice import (
    ActivationRecord,
    Finding,
    FlowRecord,
    Thresholds,
    find_problems,
    render_findings,
)
from retrograd.diagnose.gradient_flow import GradientFlowCallback, GradientFlowMonitor
from retrograd.nn.utils import clip_grad_norm_

pytest.importorskip("sklearn")

DEPTH = 10  # weight layers in every deep network below
WIDTH = 64


# --------------------------------------------------------------------------- data and models
@pytest.fixture(scope="module")
def digits():
    from retrograd.data import load_digits

    (x_train, y_train), (x_test, y_test) = load_digits(normalize=True, return_arrays=True)
    return x_train, y_train, x_test, y_test


def mlp(activation, *, init=None, batchnorm=False, weight_scale=1.0, bias=None, seed=0) -> nn.Sequential:
    """DEPTH Linear layers of width WIDTH on the 64 pixels, ``activation`` between them."""
    rg.manual_seed(seed)
    layers, features = [], 64
    for _ in range(DEPTH - 1):
        linear = nn.Linear(features, WIDTH)
        if init == "he":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        with rg.no_grad():
            linear.weight.mul_(weight_scale)
        if bias is not None:
            nn.init.constant_(linear.bias, bias)
        layers.append(linear)
        if batchnorm:
            layers.append(nn.BatchNorm1d(WIDTH))
        layers.append(activation())
        features = WIDTH
    layers.append(nn.Linear(features, 10))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """``x + relu(linear(x))``: the identity path carries the gradient past the layer."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.act = nn.ReLU()

    def forward(self, x):
        return x + self.act(self.linear(x))


def residual_mlp(seed=0) -> nn.Sequential:
    rg.manual_seed(seed)
    blocks = [ResidualBlock(WIDTH) for _ in range(DEPTH - 2)]
    return nn.Sequential(nn.Linear(64, WIDTH), *blocks, nn.Linear(WIDTH, 10))


class Run:
    def __init__(self, monitor, losses, accuracy):
        self.monitor = monitor
        self.losses = np.array(losses)
        self.accuracy = accuracy
        self.findings = monitor.report()
        self.kinds = {finding.kind for finding in self.findings}

    def finding(self, kind: str) -> Finding:
        return next(finding for finding in self.findings if finding.kind == kind)

    @property
    def loss_drop(self) -> float:
        """Mean loss of the first 10 steps minus that of the last 20."""
        return float(np.mean(self.losses[:10]) - np.mean(self.losses[-20:]))


def train(model, digits, *, steps=150, lr=0.05, clip=None, every=1, batch_size=64, seed=0) -> Run:
    """SGD with momentum on random mini-batches, the monitor recording every step."""
    x_train, y_train, x_test, y_test = digits
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    losses = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # diverging runs overflow on purpose
        with GradientFlowMonitor(model, every=every) as monitor:
            for _ in range(steps):
                index = rng.integers(0, len(x_train), batch_size)
                loss = loss_fn(model(rg.tensor(x_train[index])), rg.tensor(y_train[index]))
                optimizer.zero_grad()
                loss.backward()
                monitor.after_backward()
                if clip is not None:
                    clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                monitor.after_step()
                losses.append(loss.item())
        with rg.no_grad():
            predictions = model(rg.tensor(x_test)).numpy().argmax(axis=1)
    return Run(monitor, losses, float(np.mean(predictions == y_test)))


# --------------------------------------------------------------------------- scenarios
@pytest.fixture(scope="module")
def sigmoid_run(digits):
    return train(mlp(nn.Sigmoid), digits, lr=0.1)


@pytest.fixture(scope="module")
def relu_he_run(digits):
    return train(mlp(nn.ReLU, init="he"), digits, lr=0.02)


@pytest.fixture(scope="module")
def high_lr_run(digits):
    return train(mlp(nn.ReLU, init="he"), digits, lr=0.3)


def test_deep_sigmoid_mlp_is_flagged_for_vanishing_gradients_and_barely_learns(sigmoid_run):
    run = sigmoid_run
    assert VANISHING in run.kinds
    finding = run.finding(VANISHING)
    assert finding.severity == "critical"
    names = run.monitor.layer_names
    assert names[0] in finding.layers and names[-1] not in finding.layers
    assert finding.evidence["first_to_last_ratio"] < 1e-5
    # The first layer's gradient is orders of magnitude below the last one's all along.
    grads = run.monitor.history.grad_norm
    assert np.all(grads[:, 0] < 1e-3 * grads[:, -1])
    # Causes name the sigmoid and the small initial weights; remedies name ReLU, He init, BatchNorm, residuals.
    causes, remedies = " ".join(finding.causes), " ".join(finding.remedies)
    assert "Sigmoid" in causes and "too small" in causes
    for word in ("ReLU", "kaiming", "BatchNorm1d", "residual"):
        assert word in remedies
    # ... and it hardly learns: the loss stays near log(10), the accuracy near chance.
    assert run.loss_drop < 0.1
    assert run.losses[-20:].mean() > 2.2
    assert run.accuracy < 0.3


def test_same_depth_with_relu_and_he_init_is_not_flagged_and_learns(relu_he_run):
    run = relu_he_run
    assert run.findings == []
    assert run.loss_drop > 1.5
    assert run.accuracy > 0.85
    grads = run.monitor.history.grad_norm[-20:]
    assert np.all(grads[:, 0] > 0.1 * grads[:, -1])


def test_same_depth_with_residual_connections_is_not_flagged_and_learns(digits):
    run = train(residual_mlp(), digits, lr=0.02)
    assert run.findings == []
    assert run.loss_drop > 1.5
    assert run.accuracy > 0.85
    # One activation site per block, each named after the block's linear layer it follows.
    sites = run.monitor.history.activations
    assert [site.name for site in sites] == [f"{i}.act" for i in range(1, DEPTH - 1)]
    assert [site.follows for site in sites] == [f"{i}.linear" for i in range(1, DEPTH - 1)]


def test_same_sigmoid_depth_with_batchnorm_is_not_flagged_and_learns(digits):
    run = train(mlp(nn.Sigmoid, batchnorm=True), digits, lr=0.1)
    assert run.findings == []
    assert run.loss_drop > 1.5
    assert run.accuracy > 0.85
    # BatchNorm layers are monitored too, but only the Linear layers are compared for vanishing.
    record = run.monitor.history
    assert record.layer_types.count("BatchNorm1d") == DEPTH - 1
    assert len(record.matrix_layers) == DEPTH


def test_too_large_learning_rate_is_flagged_for_exploding_gradients(high_lr_run):
    run = high_lr_run
    assert EXPLODING in run.kinds
    finding = run.finding(EXPLODING)
    assert finding.severity == "critical"
    assert "first_nonfinite_step" in finding.evidence
    # Before turning non-finite the gradients grew by orders of magnitude.
    assert finding.evidence["total_grad_norm_before"] > 1e3
    assert any("clip_grad_norm_" in remedy for remedy in finding.remedies)
    assert any("learning rate" in remedy for remedy in finding.remedies)
    assert not np.isfinite(run.losses[-1])
    # Activations of broken steps do not count: no dead-ReLU finding from NaN weights.
    assert DEAD_RELU not in run.kinds


def test_same_learning_rate_with_gradient_clipping_is_not_flagged_and_learns(digits):
    run = train(mlp(nn.ReLU, init="he"), digits, lr=0.3, clip=1.0)
    assert run.findings == []
    assert np.isfinite(run.losses).all()
    assert run.accuracy > 0.8
    # The monitor saw the gradients before clipping: some were above the clipping threshold.
    totals = np.sqrt(np.nansum(run.monitor.history.grad_norm**2, axis=1))
    assert totals.max() > 1.0


def test_too_large_initialisation_is_flagged_for_exploding_gradients(digits):
    run = train(mlp(nn.ReLU, init="he", weight_scale=3.0), digits, steps=30, lr=0.05)
    finding = run.finding(EXPLODING)
    assert finding.severity == "critical"
    assert any("Initial weights too large" in cause for cause in finding.causes)
    # From the first step the gradient norm is far above any healthy value.
    assert np.nanmax(run.monitor.history.grad_norm[0]) > 1e3


def test_negative_biases_kill_relus_and_are_flagged(digits):
    run = train(mlp(nn.ReLU, init="he", bias=-1.0), digits, steps=60, lr=0.05)
    finding = run.finding(DEAD_RELU)
    assert finding.severity == "critical"
    assert len(finding.layers) >= 5
    assert any("LeakyReLU" in remedy for remedy in finding.remedies)
    # With every deep unit dead no gradient flows at all: vanishing, below the absolute floor,
    # with the dead units named as the cause.
    vanishing = run.finding(VANISHING)
    assert vanishing.message.startswith("The gradients of every weight layer are practically zero")
    assert vanishing.causes[0].startswith("Dead ReLU units")
    assert run.accuracy < 0.3
    if importlib.util.find_spec("matplotlib") is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing positive to draw on a log axis: a note, not a warning
            figure = run.monitor.plot()
        assert figure.axes[0].texts[0].get_text() == "no non-zero gradient recorded"


def test_tanh_with_large_weights_saturates_and_is_flagged(digits):
    model = mlp(nn.Tanh)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=1.0)
    run = train(model, digits, steps=60, lr=0.05)
    finding = run.finding(SATURATION)
    assert len(finding.layers) >= 6
    assert all(value > 0.8 for value in finding.evidence.values())
    assert any("Xavier" in remedy for remedy in finding.remedies)
    assert any("too large" in cause for cause in finding.causes)


# --------------------------------------------------------------------------- recorded numbers
def small_net(seed=0):
    rg.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))


def one_step(model, monitor, optimizer, x=None, y=None):
    x = x if x is not None else rg.randn(8, 5)
    y = y if y is not None else rg.randn(8, 2)
    loss = ((model(x) - y) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    monitor.after_backward()
    optimizer.step()
    monitor.after_step()


def test_gradient_weight_and_update_norms_match_direct_computation():
    model = small_net()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientFlowMonitor(model).attach()
    x, y = rg.randn(8, 5), rg.randn(8, 2)
    loss = ((model(x) - y) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    linears = [module for module in model if isinstance(module, nn.Linear)]
    grads = [np.linalg.norm(m.weight.grad.numpy().astype(np.float64)) for m in linears]
    bias_grads = [np.linalg.norm(m.bias.grad.numpy().astype(np.float64)) for m in linears]
    weights = [np.linalg.norm(m.weight.detach().numpy().astype(np.float64)) for m in linears]
    monitor.after_backward()
    optimizer.step()
    monitor.after_step()

    record = monitor.history
    assert record.layer_names == ("0", "2", "4")
    assert record.layer_types == ("Linear", "Linear", "Linear")
    np.testing.assert_allclose(record.grad_norm[0], grads, rtol=1e-5)
    np.testing.assert_allclose(record.bias_grad_norm[0], bias_grads, rtol=1e-5)
    np.testing.assert_allclose(record.weight_norm[0], weights, rtol=1e-5)
    # Plain SGD moves the weights by lr * grad, so the update ratio is lr * ||g|| / ||w||.
    np.testing.assert_allclose(record.update_ratio[0], 0.1 * np.array(grads) / weights, rtol=1e-4)
    np.testing.assert_array_equal(record.fan_in, [5, 4, 3])
    np.testing.assert_array_equal(record.weight_numel, [20, 12, 6])
    assert not record.grad_nonfinite.any()


def test_update_ratio_is_the_true_update_of_any_optimizer():
    model = small_net()
    # Momentum, Nesterov and weight decay: the step is not lr * grad.
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)
    monitor = GradientFlowMonitor(model, every=1).attach()
    for _ in range(3):
        before = [m.weight.detach().numpy().copy() for m in model if isinstance(m, nn.Linear)]
        one_step(model, monitor, optimizer)
        after = [m.weight.detach().numpy() for m in model if isinstance(m, nn.Linear)]
    expected = [np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip(after, before)]
    np.testing.assert_allclose(monitor.history.update_ratio[-1], expected, rtol=1e-4)


def test_without_after_step_or_update_tracking_the_update_ratio_is_nan():
    model = small_net()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientFlowMonitor(model).attach()
    loss = model(rg.randn(4, 5)).sum()
    loss.backward()
    monitor.after_backward()
    optimizer.step()
    monitor.after_backward()  # no after_step in between: the first step's update is not measured
    assert np.isnan(monitor.history.update_ratio[0]).all()

    untracked = GradientFlowMonitor(small_net(), track_updates=False)
    one_step(untracked.model, untracked.attach(), optim.SGD(untracked.model.parameters(), lr=0.1))
    assert np.isnan(untracked.history.update_ratio).all()
    assert np.isfinite(untracked.history.grad_norm).all()


def test_every_records_one_step_in_n_including_activations():
    model = small_net()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    monitor = GradientFlowMonitor(model, every=3).attach()
    for _ in range(10):
        one_step(model, monitor, optimizer)
    record = monitor.history
    np.testing.assert_array_equal(record.steps, [0, 3, 6, 9])
    assert monitor.step_count == 10
    for site in record.activations:
        np.testing.assert_array_equal(site.steps, [0, 3, 6, 9])
    assert np.isfinite(record.update_ratio).all()


def test_dead_units_and_saturation_are_measured_per_unit_and_per_output():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 4), nn.Sigmoid(), nn.Linear(4, 2), nn.Tanh())
    with rg.no_grad():
        model[0].bias.copy_(rg.tensor([-100.0, -100.0, -100.0, 100.0, 100.0, 100.0]))  # units 0-2 never fire
        model[2].weight.zero_()
        model[2].bias.copy_(rg.tensor([-50.0, 0.0, 0.0, 50.0]))  # two sigmoid outputs pinned at 0 and 1
        model[4].weight.zero_()
        model[4].bias.copy_(rg.tensor([3.0, 0.0]))  # tanh(3) = 0.995: one of two outputs saturated
    monitor = GradientFlowMonitor(model).attach()
    x = rg.randn(16, 3)
    model(x).sum().backward()
    monitor.after_backward()
    sites = {site.name: site for site in monitor.history.activations}
    assert sites["1"].kind == "ReLU" and sites["1"].follows == "0"
    assert sites["1"].dead[0] == pytest.approx(0.5)
    assert np.isnan(sites["1"].saturated[0])
    assert sites["3"].saturated[0] == pytest.approx(0.5)
    assert np.isnan(sites["3"].dead[0])
    assert sites["5"].saturated[0] == pytest.approx(0.5)
    with rg.no_grad():
        out = model(x).numpy()
    assert sites["5"].mean[0] == pytest.approx(out.mean(), abs=1e-6)
    assert sites["5"].std[0] == pytest.approx(out.std(), abs=1e-4)


def test_dead_channels_after_a_convolution_are_counted_per_channel():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    with rg.no_grad():
        model[0].bias.copy_(rg.tensor([-100.0, 0.0, 0.0, 0.0]))
    monitor = GradientFlowMonitor(model).attach()
    model(rg.randn(5, 1, 8, 8)).sum().backward()
    monitor.after_backward()
    (site,) = monitor.history.activations
    assert site.dead[0] == pytest.approx(0.25)  # 1 of 4 channels, not 1/4 of the 6x6 positions
    assert monitor.history.fan_in[0] == 9


def test_layer_order_follows_the_forward_pass_not_the_registration():
    class HeadFirst(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(8, 2)
            self.body = nn.Linear(4, 8)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.head(self.act(self.body(x)))

    model = HeadFirst()
    monitor = GradientFlowMonitor(model)
    assert monitor.layer_names == ("head", "body")  # not seen yet: registration order
    with monitor:
        model(rg.randn(3, 4)).sum().backward()
        monitor.after_backward()
        assert monitor.layer_names == ("body", "head")
        (site,) = monitor.history.activations
        assert site.follows == "body"


def test_an_activation_module_used_twice_gives_two_sites():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Linear(4, 2)
            self.act = nn.Tanh()

        def forward(self, x):
            return self.b(self.act(self.a(self.act(x))))

    model = Shared()
    with GradientFlowMonitor(model, every=1) as monitor:
        for _ in range(2):
            model(rg.randn(3, 4)).sum().backward()
            monitor.after_backward()
    assert [site.name for site in monitor.history.activations] == ["act", "act#2"]
    assert all(len(site.steps) == 2 for site in monitor.history.activations)


def test_forward_passes_without_grad_are_not_recorded():
    model = small_net()
    with GradientFlowMonitor(model) as monitor:
        x = rg.randn(6, 5)
        model(x).sum().backward()
        with rg.no_grad():
            model(rg.full((6, 5), 1000.0))  # a validation pass between backward and the record
        monitor.after_backward()
    relu = monitor.history.activations[0]
    with rg.no_grad():
        expected = model[1](model[0](x)).numpy().mean()
    assert relu.mean[0] == pytest.approx(expected, rel=1e-5)


def test_detach_removes_every_hook_and_keeps_the_data():
    model = small_net()
    monitor = GradientFlowMonitor(model)
    with monitor:
        assert monitor.attached
        model(rg.randn(2, 5)).sum().backward()
        monitor.after_backward()
    assert not monitor.attached
    assert all(not module._forward_hooks and not module._forward_pre_hooks for module in model.modules())
    model(rg.randn(2, 5))
    assert len(monitor.history) == 1
    assert all(len(site.steps) == 1 for site in monitor.history.activations)
    monitor.reset()
    assert len(monitor.history) == 0 and monitor.step_count == 0


def test_unused_layers_and_frozen_parameters():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(3, 2)
            self.unused = nn.Linear(3, 2)
            self.frozen = nn.Linear(3, 3)
            self.frozen.requires_grad_(False)

        def forward(self, x):
            return self.used(self.frozen(x))

    model = TwoHeads()
    monitor = GradientFlowMonitor(model).attach()
    assert set(monitor.layer_names) == {"used", "unused"}  # frozen parameters are not monitored by default
    model(rg.randn(4, 3)).sum().backward()
    monitor.after_backward()
    record = monitor.history
    unused = record.layer_names.index("unused")
    assert np.isnan(record.grad_norm[0, unused]) and not record.grad_nonfinite[0, unused]
    assert find_problems(record) == []


def test_layers_can_be_chosen_by_name_or_module_and_containers_count_as_one():
    model = residual_mlp()
    monitor = GradientFlowMonitor(model, layers=["0", model[3], "9"])
    assert monitor.layer_names == ("0", "3", "9")
    with monitor:
        model(rg.randn(4, 64)).sum().backward()
        monitor.after_backward()
    block = model[3].linear
    expected = np.linalg.norm(block.weight.grad.numpy().astype(np.float64))
    assert monitor.history.grad_norm[0, 1] == pytest.approx(expected, rel=1e-5)


def test_bad_arguments_get_clear_errors():
    model = small_net()
    with pytest.raises(TypeError, match=r"model must be a retrograd\.nn\.Module"):
        GradientFlowMonitor("model")
    with pytest.raises(ValueError, match="every must be a positive int, got 0"):
        GradientFlowMonitor(model, every=0)
    with pytest.raises(ValueError, match="no module named 'fc9'"):
        GradientFlowMonitor(model, layers=["fc9"])
    with pytest.raises(ValueError, match="is not a module of the model"):
        GradientFlowMonitor(model, layers=[nn.Linear(2, 2)])
    with pytest.raises(ValueError, match=r"layer '1' \(ReLU\) has no parameters"):
        GradientFlowMonitor(model, layers=["1"])
    with pytest.raises(TypeError, match="thresholds must be"):
        GradientFlowMonitor(model, thresholds={"window": 5})
    with pytest.raises(ValueError, match="no parameters that require grad"):
        GradientFlowMonitor(nn.ReLU())
    with pytest.raises(ValueError, match="every must be a positive int"):
        GradientFlowCallback(every=-1)
    with pytest.raises(ValueError, match="sustain must be in"):
        Thresholds(sustain=1.5)
    with pytest.raises(ValueError, match="window must be an int >= 2"):
        Thresholds(window=1)
    with pytest.raises(ValueError, match="growth_factor must be > 1"):
        Thresholds(growth_factor=1.0)


def test_non_finite_gradients_are_flagged_as_critical():
    model = small_net()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientFlowMonitor(model, every=1).attach()
    for _ in range(3):
        one_step(model, monitor, optimizer)
    with np.errstate(all="ignore"):
        one_step(model, monitor, optimizer, x=rg.full((8, 5), float("nan")))
    record = monitor.history
    assert record.grad_nonfinite[3].all() and not record.grad_nonfinite[:3].any()
    (finding,) = find_problems(record)
    assert finding.kind == EXPLODING and finding.severity == "critical"
    assert finding.evidence["first_nonfinite_step"] == 3
    assert any("NaN or inf in the data" in cause for cause in finding.causes)


def test_float32_overflow_of_the_sum_of_squares_is_not_mistaken_for_infinity():
    model = nn.Linear(4, 1)
    monitor = GradientFlowMonitor(model).attach()
    model.weight.grad = rg.full((1, 4), 1e20)
    model.bias.grad = rg.zeros(1)
    monitor.after_backward()
    assert monitor.history.grad_norm[0, 0] == pytest.approx(2e20, rel=1e-6)
    assert not monitor.history.grad_nonfinite.any()


# --------------------------------------------------------------------------- rules on hand-made records
VANISHING, EXPLODING, DEAD_RELU, SATURATION, LARGE_UPDATES = (
    "vanishing_gradients",
    "exploding_gradients",
    "dead_relu",
    "saturation",
    "large_updates",
)


def make_record(grad_norm, update_ratio=None, activations=(), fan_in=None):
    grad_norm = np.asarray(grad_norm, dtype=float)
    steps, layers = grad_norm.shape
    return FlowRecord(
        layer_names=tuple(f"fc{i}" for i in range(layers)),
        layer_types=("Linear",) * layers,
        fan_in=np.full(layers, 16.0) if fan_in is None else np.asarray(fan_in, dtype=float),
        weight_numel=np.full(layers, 256.0),
        steps=np.arange(steps),
        grad_norm=grad_norm,
        bias_grad_norm=grad_norm / 10,
        weight_norm=np.full((steps, layers), 16 * math.sqrt(2 / 16)),  # He-like scale: gain 1.41
        update_ratio=np.full((steps, layers), 1e-3) if update_ratio is None else np.asarray(update_ratio),
        grad_nonfinite=~np.isfinite(grad_norm) & ~np.isnan(grad_norm),
        activations=activations,
    )


def healthy(steps=30, layers=4, seed=0):
    rng = np.random.default_rng(seed)
    return np.exp(rng.normal(0, 0.3, (steps, layers))) * 0.1


def test_a_healthy_record_has_no_findings():
    assert find_problems(make_record(healthy())) == []
    assert render_findings([]) == "No gradient-flow problems found."


def test_vanishing_needs_the_ratio_to_hold_in_most_recent_steps():
    grads = healthy()
    grads[:, 0] = grads[:, -1] * 1e-4
    (finding,) = find_problems(make_record(grads))
    assert finding.kind == VANISHING and finding.layers == ("fc0",) and finding.severity == "warning"
    assert finding.evidence["first_to_last_ratio"] == pytest.approx(1e-4)

    sometimes = healthy()
    sometimes[::2, 0] = sometimes[::2, -1] * 1e-4  # in half of the steps only: not sustained
    assert find_problems(make_record(sometimes)) == []
    assert [f.kind for f in find_problems(make_record(sometimes), Thresholds(sustain=0.5))] == [VANISHING]

    early = healthy()
    early[:10, 0] = early[:10, -1] * 1e-4  # only before the recent window
    assert find_problems(make_record(early)) == []


def test_vanishing_below_the_absolute_floor_is_critical():
    grads = healthy() * 1e-8
    (finding,) = find_problems(make_record(grads))
    assert finding.kind == VANISHING and finding.severity == "critical"
    assert finding.layers == ("fc0", "fc1", "fc2", "fc3")
    assert "nothing is learning" in finding.message


def test_too_few_steps_give_no_verdict():
    grads = healthy(steps=4)
    grads[:, 0] *= 1e-6
    assert find_problems(make_record(grads)) == []
    assert find_problems(make_record(grads), Thresholds(min_steps=3))[0].kind == VANISHING
    assert find_problems(make_record(np.empty((0, 3)))) == []


def test_exploding_by_absolute_size_by_depth_ratio_and_by_growth():
    big = healthy() * 1e5
    (finding,) = find_problems(make_record(big))
    assert finding.kind == EXPLODING and finding.severity == "warning"
    assert "above 1e+03" in finding.message

    growing_back = healthy()
    growing_back[:, 0] = growing_back[:, -1] * 1e4
    finding = find_problems(make_record(growing_back))[0]
    assert finding.kind == EXPLODING and finding.layers == ("fc0",)
    assert finding.evidence["max_ratio_to_last_layer"] == pytest.approx(1e4)

    growth = np.outer(np.geomspace(0.01, 10, 30), np.ones(4))
    finding = find_problems(make_record(growth))[0]
    assert finding.kind == EXPLODING
    assert finding.evidence["growth_factor"] > 10
    noisy_flat = healthy(steps=30) * np.where(np.arange(30) % 2, 30.0, 1.0)[:, None]
    assert find_problems(make_record(noisy_flat)) == []


def test_small_initial_weights_are_judged_against_the_init_the_activation_needs():
    grads = healthy()
    grads[:, 0] = grads[:, -1] * 1e-4
    record = make_record(grads)
    xavier_scale = np.full_like(record.weight_norm, 16 * math.sqrt(1 / 16))  # RMS x sqrt(fan_in) = 1
    for kind, too_small in (("Tanh", False), ("Sigmoid", False), ("ReLU", True)):
        sites = (activation_site("act", kind, dead=0.0, saturated=0.0),)
        record = make_record(grads, activations=sites)
        record = dataclasses.replace(record, weight_norm=xavier_scale)
        (finding,) = find_problems(record)
        assert any("too small" in cause for cause in finding.causes) == too_small, kind


def test_large_updates_are_flagged_with_the_learning_rate_as_cause():
    ratios = np.full((30, 4), 0.5)
    (finding,) = find_problems(make_record(healthy(), update_ratio=ratios))
    assert finding.kind == LARGE_UPDATES
    assert finding.layers == ("fc0", "fc1", "fc2", "fc3")
    assert "learning rate" in finding.causes[0]


def activation_site(name, kind, dead=np.nan, saturated=np.nan, steps=30):
    return ActivationRecord(
        name=name,
        kind=kind,
        follows="fc0",
        steps=np.arange(steps),
        mean=np.zeros(steps),
        std=np.ones(steps),
        dead=np.full(steps, dead),
        saturated=np.full(steps, saturated),
    )


def test_dead_relu_and_saturation_rules():
    sites = (
        activation_site("relu_ok", "ReLU", dead=0.2),
        activation_site("relu_dead", "ReLU", dead=0.7),
        activation_site("tanh", "Tanh", saturated=0.9),
        activation_site("sigmoid_ok", "Sigmoid", saturated=0.1),
    )
    findings = find_problems(make_record(healthy(), activations=sites))
    assert [f.kind for f in findings] == [DEAD_RELU, SATURATION]
    dead, saturation = findings
    assert dead.layers == ("relu_dead",) and dead.severity == "warning"
    assert dead.evidence == {"dead_fraction[relu_dead]": pytest.approx(0.7)}
    assert "relu_dead (ReLU after fc0): 70%" in dead.message
    assert saturation.layers == ("tanh",)
    everything_dead = (activation_site("relu", "ReLU", dead=1.0),)
    assert find_problems(make_record(healthy(), activations=everything_dead))[0].severity == "critical"


def test_findings_are_sorted_critical_first_and_render_in_plain_words():
    grads = healthy()
    grads[-3, 2] = np.inf
    grads[:, 0] = grads[:, -1] * 1e-4
    findings = find_problems(make_record(grads))
    assert [(f.kind, f.severity) for f in findings] == [(EXPLODING, "critical"), (VANISHING, "warning")]
    text = str(findings[0])
    assert text.startswith("[critical] exploding gradients: fc2")
    assert "Likely causes:" in text and "What to try:" in text
    assert "step 27" in text
    as_dict = findings[1].to_dict()
    assert as_dict["kind"] == VANISHING and as_dict["layers"] == ["fc0"]
    assert "**Vanishing gradients** (warning)" in findings[1].to_markdown()


# --------------------------------------------------------------------------- reports and plots
def test_summary_and_markdown_show_the_tables_and_findings(sigmoid_run):
    summary = sigmoid_run.monitor.summary()
    assert "150 recorded steps (one in 1) of 150" in summary
    assert "grad norm" in summary and "update ratio" in summary
    assert "1 (Sigmoid)" in summary
    assert "[critical] vanishing gradients" in summary
    markdown = sigmoid_run.monitor.to_markdown(image="flow.png")
    assert markdown.startswith("## Gradient flow")
    assert "![Gradient norm by layer](flow.png)" in markdown
    assert "| layer | type | grad norm |" in markdown
    assert "### Findings" in markdown and "**Vanishing gradients** (critical)" in markdown
    empty = GradientFlowMonitor(small_net())
    assert "nothing recorded yet" in empty.summary()
    assert empty.to_markdown().endswith("Nothing recorded.")


def test_plot_writes_a_png_with_a_log_scale_line_per_layer_and_a_bar_chart(sigmoid_run, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "flow.png"
    figure = sigmoid_run.monitor.plot(path, title="10-layer sigmoid MLP")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines_axes, legend_axes, bars_axes = figure.axes
    assert lines_axes.get_yscale() == "log" and bars_axes.get_yscale() == "log"
    assert len(lines_axes.get_lines()) == DEPTH
    labels = [text.get_text() for text in legend_axes.get_legend().get_texts()]
    assert labels == [f"{name} (Linear)" for name in sigmoid_run.monitor.layer_names]
    assert len(bars_axes.patches) == DEPTH
    # The bars are the mean gradient norm of each layer.
    heights = [patch.get_height() for patch in bars_axes.patches]
    np.testing.assert_allclose(heights, sigmoid_run.monitor.history.grad_norm.mean(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="nothing recorded yet"):
        GradientFlowMonitor(small_net()).plot()


def test_plot_without_matplotlib_says_what_to_install(sigmoid_run, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        sigmoid_run.monitor.plot()


# --------------------------------------------------------------------------- fit callback
def test_callback_with_fit_records_raw_gradients_and_reports(digits, tmp_path, capsys):
    from retrograd.train import fit

    x_train, y_train, _, _ = digits
    model = mlp(nn.Sigmoid)
    callback = GradientFlowCallback(every=1, plot_path=tmp_path / "flow.png", markdown_path=tmp_path / "flow.md")
    history = fit(
        model,
        (x_train[:640], y_train[:640]),
        loss=nn.CrossEntropyLoss(),
        optimizer=optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        epochs=3,
        batch_size=64,
        grad_clip=1e-3,
        callbacks=[callback],
        verbose=0,
        seed=0,
    )
    monitor = callback.monitor
    assert monitor.step_count == 30 and not monitor.attached
    assert history["gradient_flow"] == [[VANISHING], [VANISHING], [VANISHING]]
    assert [f.kind for f in callback.findings] == [VANISHING]
    # Recorded before GradientClipping: the raw norms, above the clipping threshold.
    totals = np.sqrt(np.sum(monitor.history.grad_norm**2, axis=1))
    assert (totals > 1e-3).all()
    assert np.isfinite(monitor.history.update_ratio).all()
    out = capsys.readouterr().out
    assert "[critical] vanishing gradients" in out
    assert (tmp_path / "flow.png").exists()
    markdown = (tmp_path / "flow.md").read_text()
    assert "![Gradient norm by layer](flow.png)" in markdown

    # A second fit continues the same record.
    callback.plot_path = callback.markdown_path = None
    fit(
        model,
        (x_train[:128], y_train[:128]),
        loss=nn.CrossEntropyLoss(),
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        batch_size=64,
        callbacks=[callback],
        verbose=0,
    )
    assert callback.monitor is monitor and monitor.step_count == 32
