"""retrograd.train: fit / evaluate / predict and the Trainer — the loop equals the
hand-written PyTorch-style loop, seeds make runs bit-identical, resuming from a
checkpoint equals the uninterrupted run."""

import re
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim, train
from retrograd.nn.utils import clip_grad_norm_
from retrograd.optim import lr_scheduler
from retrograd.train import metrics
from retrograd.utils.data import DataLoader, TensorDataset


def cross_entropy(logits, target):
    return -rg.log_softmax(logits, 1).gather(1, target.unsqueeze(1)).mean()


class MLP(nn.Module):
    def __init__(self, p=0.0):
        super().__init__()
        self.hidden = nn.Linear(4, 16)
        self.out = nn.Linear(16, 3)
        self.p = p

    def forward(self, x):
        return self.out(rg.dropout(rg.relu(self.hidden(x)), self.p, self.training))


def make_data(n=96, seed=0):
    """Three linearly separable-ish classes in 4 dimensions (NumPy arrays)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    teacher = rng.standard_normal((4, 3)).astype(np.float32)
    return x, (x @ teacher).argmax(1).astype(np.int64)


def new_model(p=0.0, seed=0):
    rg.manual_seed(seed)
    return MLP(p)


def weights(model):
    return {key: value.numpy().copy() for key, value in model.state_dict().items()}


def assert_same_weights(a, b):
    a, b = weights(a) if isinstance(a, nn.Module) else a, weights(b) if isinstance(b, nn.Module) else b
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def quiet_fit(model, data, **kwargs):
    kwargs.setdefault("loss", cross_entropy)
    kwargs.setdefault("optimizer", optim.SGD(model.parameters(), lr=0.1))
    return train.fit(model, data, verbose=0, **kwargs)


class Recorder(train.Callback):
    """Records every hook call as (hook, index, copy of the logs)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs):
        self.calls.append(("train_begin", None, dict(logs)))

    def on_train_end(self, logs):
        self.calls.append(("train_end", None, dict(logs)))

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(("epoch_begin", epoch, dict(logs)))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_batch_begin(self, batch, logs):
        self.calls.append(("batch_begin", batch, dict(logs)))

    def on_after_backward(self, batch, logs):
        assert all(p.grad is not None for p in self.model.parameters())
        self.calls.append(("after_backward", batch, dict(logs)))

    def on_batch_end(self, batch, logs):
        self.calls.append(("batch_end", batch, dict(logs)))


# ---------------------------------------------------------------- the loop


def test_fit_learns_a_small_problem():
    x, y = make_data()
    model = new_model()
    history = quiet_fit(model, (x, y), optimizer=optim.SGD(model.parameters(), lr=0.5), epochs=15, batch_size=16)
    assert history["loss"][-1] < 0.4 * history["loss"][0]
    assert history["accuracy"][-1] > 0.9
    assert history.epoch == list(range(15))
    assert train.evaluate(model, (x, y), loss=cross_entropy)["loss"] < 0.4 * history["loss"][0]


@pytest.mark.parametrize("batch_size", [32, 40])
def test_fit_is_the_hand_written_pytorch_loop(batch_size):
    x, y = make_data()
    model = new_model(p=0.3)
    quiet_fit(model, (x, y), epochs=2, batch_size=batch_size, shuffle=False, seed=5)

    reference = new_model(p=0.3)
    optimizer = optim.SGD(reference.parameters(), lr=0.1)
    rg.manual_seed(5)
    for _ in range(2):
        for start in range(0, len(x), batch_size):
            inputs, target = rg.tensor(x[start : start + batch_size]), rg.tensor(y[start : start + batch_size])
            reference.train()
            loss = cross_entropy(reference(inputs), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert_same_weights(model, reference)


def test_full_batch_mini_batch_and_stochastic_are_batch_sizes():
    x, y = make_data(n=24)
    for batch_size, steps in ((None, 1), (8, 3), (5, 5), (1, 24)):
        recorder = Recorder()
        quiet_fit(new_model(), (x, y), batch_size=batch_size, callbacks=[recorder])
        sizes = [logs["size"] for hook, _, logs in recorder.calls if hook == "batch_end"]
        assert len(sizes) == steps and sum(sizes) == 24

    model = new_model()
    quiet_fit(model, (x, y), batch_size=None, epochs=3, shuffle=False)
    reference = new_model()
    optimizer = optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(3):  # plain gradient descent on the whole data set
        optimizer.zero_grad()
        cross_entropy(reference(rg.tensor(x)), rg.tensor(y)).backward()
        optimizer.step()
    assert_same_weights(model, reference)


def test_every_form_of_data_trains_the_same():
    x, y = make_data(n=40)
    tensors = (rg.tensor(x), rg.tensor(y))
    forms = {
        "arrays": (x, y),
        "tensors": tensors,
        "list": [tensors[0], tensors[1]],
        "dataset": TensorDataset(*tensors),
        "loader": DataLoader(TensorDataset(*tensors), batch_size=16),
        "batches": [(tensors[0][i : i + 16], tensors[1][i : i + 16]) for i in range(0, 40, 16)],
    }
    results = {}
    for name, data in forms.items():
        model = new_model()
        quiet_fit(model, data, epochs=2, batch_size=16, shuffle=False)
        results[name] = weights(model)
    for name in forms:
        assert_same_weights(results[name], results["arrays"])


def test_hooks_run_in_order_with_their_logs():
    x, y = make_data(n=8)
    recorder = Recorder()
    quiet_fit(new_model(), (x, y), epochs=2, batch_size=4, val_data=(x, y), callbacks=[recorder])
    sequence = [(hook, index) for hook, index, _ in recorder.calls]
    per_batch = lambda b: [("batch_begin", b), ("after_backward", b), ("batch_end", b)]  # noqa: E731
    epoch = lambda e: [("epoch_begin", e), *per_batch(0), *per_batch(1), ("epoch_end", e)]  # noqa: E731
    assert sequence == [("train_begin", None), *epoch(0), *epoch(1), ("train_end", None)]

    logs = {(hook, index): logs for hook, index, logs in recorder.calls}
    assert logs[("batch_begin", 0)] == {"batch": 0, "size": 4}
    assert set(logs[("after_backward", 0)]) == {"batch", "size", "loss"}
    assert logs[("batch_end", 1)]["skipped"] is False
    assert list(logs[("epoch_end", 1)]) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert logs[("train_end", None)] == logs[("epoch_end", 1)]


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    x, y = make_data(n=10)
    recorder = Recorder()
    history = quiet_fit(new_model(), (x, y), batch_size=4, shuffle=False, callbacks=[recorder])
    batch_logs = [logs for hook, _, logs in recorder.calls if hook == "batch_end"]
    expected = sum(logs["loss"] * logs["size"] for logs in batch_logs) / 10
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_a_callback_can_stop_training_and_skip_steps():
    x, y = make_data(n=32)

    class StopAfterTwoBatches(train.Callback):
        def on_batch_end(self, batch, logs):
            if batch == 1:
                self.trainer.stop_training = True

    recorder = Recorder()
    history = quiet_fit(new_model(), (x, y), epochs=5, batch_size=4, callbacks=[StopAfterTwoBatches(), recorder])
    assert len(history) == 1
    assert sum(hook == "batch_end" for hook, _, _ in recorder.calls) == 2

    class SkipEverything(train.Callback):
        def on_after_backward(self, batch, logs):
            self.trainer.skip_step = True

    model = new_model()
    before = weights(model)
    history = quiet_fit(model, (x, y), epochs=2, batch_size=8, callbacks=[SkipEverything()])
    assert_same_weights(weights(model), before)
    assert np.isnan(history["loss"]).all()


def test_metrics_may_be_names_metric_objects_or_functions():
    x, y = make_data(n=30)

    def mean_logit(outputs, target):
        return outputs.mean()

    history = quiet_fit(
        new_model(), (x, y), val_data=(x, y), metrics=["accuracy", metrics.TopKAccuracy(k=2), mean_logit, "f1"]
    )
    assert set(history.history) == {
        "loss",
        "accuracy",
        "top_2_accuracy",
        "mean_logit",
        "f1",
        "val_loss",
        "val_accuracy",
        "val_top_2_accuracy",
        "val_mean_logit",
        "val_f1",
        "lr",
    }
    assert 0 <= history["val_top_2_accuracy"][0] <= 1


# ---------------------------------------------------------------- evaluate and predict


def test_evaluate_scores_in_eval_mode_and_restores_the_mode():
    x, y = make_data(n=50)
    model = new_model(p=0.5)
    model.train()
    result = train.evaluate(model, (x, y), loss=cross_entropy, batch_size=16)
    assert model.training
    model.eval()
    with rg.no_grad():
        outputs = model(rg.tensor(x))
    expected_loss = (
        sum(
            cross_entropy(outputs[i : i + 16], rg.tensor(y[i : i + 16])).item() * len(y[i : i + 16])
            for i in range(0, 50, 16)
        )
        / 50
    )
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-6)
    assert result["accuracy"] == metrics.accuracy(outputs, y)
    assert train.evaluate(model, (x, y), loss=cross_entropy, batch_size=16) == result  # no dropout
    assert train.evaluate(model, (x, y)) == {"accuracy": result["accuracy"]}


def test_predict_returns_the_outputs_in_order():
    x, y = make_data(n=37)
    model = new_model(p=0.5)
    model.eval()
    with rg.no_grad():
        expected = model(rg.tensor(x)).numpy()
    model.train()
    for data in (x, (x, y), rg.tensor(x), DataLoader(TensorDataset(rg.tensor(x), rg.tensor(y)), batch_size=5)):
        outputs = train.predict(model, data, batch_size=8)
        assert isinstance(outputs, rg.Tensor) and not outputs.requires_grad
        np.testing.assert_allclose(outputs.numpy(), expected, rtol=1e-6, atol=1e-6)
    assert model.training

    class TwoHeads(nn.Module):
        def forward(self, x):
            return x * 2, x.sum(1)

    first, second = train.predict(TwoHeads(), x, batch_size=10)
    assert first.shape == (37, 4) and second.shape == (37,)


# ---------------------------------------------------------------- reproducibility


def seeded_run(seed, epochs=3, loader=None):
    x, y = make_data(n=48)
    model = new_model(p=0.3)
    data = loader if loader is not None else (x, y)
    history = quiet_fit(
        model, data, optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=epochs, batch_size=8, seed=seed
    )
    return weights(model), history.history


def test_a_seed_makes_the_whole_run_bit_identical():
    first_weights, first_history = seeded_run(21)
    rg.randn(100)  # disturb the global random state in between
    second_weights, second_history = seeded_run(21)
    assert_same_weights(first_weights, second_weights)
    assert first_history == second_history
    other_weights, _ = seeded_run(22)
    assert not np.array_equal(other_weights["hidden.weight"], first_weights["hidden.weight"])


def test_manual_seed_before_fit_also_repeats_the_run():
    x, y = make_data(n=32)
    runs = []
    for _ in range(2):
        model = new_model(p=0.3, seed=4)  # seeds the default generator, then builds the model
        quiet_fit(model, (x, y), epochs=2, batch_size=8)
        runs.append(weights(model))
    assert_same_weights(*runs)


def test_a_seed_also_seeds_a_dataloaders_own_generator():
    x, y = make_data(n=48)
    dataset = TensorDataset(rg.tensor(x), rg.tensor(y))
    first = seeded_run(3, loader=DataLoader(dataset, batch_size=8, shuffle=True, generator=rg.Generator()))
    second = seeded_run(
        3, loader=DataLoader(dataset, batch_size=8, shuffle=True, generator=rg.Generator().manual_seed(1))
    )
    assert_same_weights(first[0], second[0])


# ---------------------------------------------------------------- resuming


def resumable_setup(p=0.2, model_seed=0):
    model = new_model(p, seed=model_seed)
    optimizer = optim.Adam(model.parameters(), lr=0.02)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    return model, optimizer, scheduler


def run(tmp_path, *, epochs=4, resume_from=None, seed=None, model_seed=0, data=None, early=None):
    x, y = make_data(n=40)
    model, optimizer, scheduler = resumable_setup(model_seed=model_seed)
    callbacks = [train.ModelCheckpoint(tmp_path / "epoch-{epoch}.safetensors")]
    if early is not None:
        callbacks.append(early)
    history = train.fit(
        model,
        data if data is not None else (x, y),
        loss=cross_entropy,
        optimizer=optimizer,
        scheduler=scheduler,
        epochs=epochs,
        batch_size=8,
        val_data=(x[:16], y[:16]),
        callbacks=callbacks,
        seed=seed,
        resume_from=resume_from,
        verbose=0,
    )
    return model, optimizer, history


def test_resuming_from_a_checkpoint_equals_the_uninterrupted_run(tmp_path):
    full_model, full_optimizer, full_history = run(tmp_path / "full", seed=9)

    rg.manual_seed(12345)  # a new process would start from some other random state
    rg.randn(17)
    resumed_model, resumed_optimizer, resumed_history = run(
        tmp_path / "resumed", resume_from=tmp_path / "full" / "epoch-2.safetensors", model_seed=77
    )

    assert_same_weights(resumed_model, full_model)
    for index, buffers in full_optimizer.state_dict()["state"].items():
        for name, value in buffers.items():
            np.testing.assert_array_equal(resumed_optimizer.state_dict()["state"][index][name].numpy(), value.numpy())
    assert resumed_history.history == full_history.history
    assert resumed_history.epoch == [0, 1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "resumed").iterdir()) == ["epoch-3.safetensors", "epoch-4.safetensors"]


def test_load_checkpoint_then_fit_from_initial_epoch_equals_the_uninterrupted_run(tmp_path):
    x, y = make_data(n=40)
    (tmp_path / "full").mkdir()
    full_model, _, _ = run(tmp_path / "full", seed=5)

    model, optimizer, scheduler = resumable_setup(model_seed=3)
    trainer = train.Trainer(model, cross_entropy, optimizer, scheduler=scheduler, verbose=0)
    trainer.load_checkpoint(tmp_path / "full" / "epoch-3.safetensors")
    assert trainer.epochs_completed == 3
    trainer.fit((x, y), epochs=4, batch_size=8, val_data=(x[:16], y[:16]), initial_epoch=trainer.epochs_completed)
    assert_same_weights(model, full_model)


def test_resuming_restores_a_dataloaders_generator_and_callback_state(tmp_path):
    x, y = make_data(n=40)
    dataset = TensorDataset(rg.tensor(x), rg.tensor(y))

    def loader():
        return DataLoader(dataset, batch_size=8, shuffle=True, generator=rg.Generator())

    early = train.EarlyStopping(monitor="val_loss", patience=10)
    full_model, _, _ = run(tmp_path / "full", seed=2, data=loader(), early=early)
    assert early.best_epoch is not None

    resumed_early = train.EarlyStopping(monitor="val_loss", patience=10)
    resumed_model, _, _ = run(
        tmp_path / "resumed", resume_from=tmp_path / "full" / "epoch-1.safetensors", data=loader(), early=resumed_early
    )
    assert_same_weights(resumed_model, full_model)
    assert (resumed_early.best, resumed_early.best_epoch) == (early.best, early.best_epoch)


def test_resume_from_and_initial_epoch_are_exclusive(tmp_path):
    x, y = make_data(n=8)
    model = new_model()
    with pytest.raises(ValueError, match="give resume_from or initial_epoch, not both"):
        quiet_fit(model, (x, y), epochs=2, initial_epoch=1, resume_from=tmp_path / "c.safetensors")


# ---------------------------------------------------------------- schedulers, clipping


def test_scheduler_is_stepped_per_epoch_or_per_batch():
    x, y = make_data(n=24)
    model = new_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    history = quiet_fit(
        model, (x, y), optimizer=optimizer, scheduler=lr_scheduler.StepLR(optimizer, 1, gamma=0.5), epochs=3
    )
    assert history["lr"] == [0.1, 0.05, 0.025]

    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
    history = quiet_fit(
        model, (x, y), optimizer=optimizer, scheduler=scheduler, scheduler_interval="batch", epochs=2, batch_size=8
    )
    assert history["lr"] == pytest.approx([0.1, 0.1 * 0.5**3])
    assert scheduler.last_epoch == 6


def test_reduce_lr_on_plateau_gets_the_monitored_value():
    x, y = make_data(n=24)
    model = new_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    seen = []

    class Spy(lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics, epoch=None):
            seen.append(metrics)
            super().step(metrics, epoch)

    history = quiet_fit(
        model, (x, y), optimizer=optimizer, val_data=(x, y), epochs=3, scheduler=Spy(optimizer, mode="max", patience=0)
    )
    assert seen == history["val_loss"]
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.01])  # val_loss falls: "no improvement" in max mode

    optimizer = optim.SGD(model.parameters(), lr=0.1)
    seen.clear()
    history = quiet_fit(model, (x, y), optimizer=optimizer, epochs=2, scheduler=Spy(optimizer))
    assert seen == history["loss"]


def test_grad_clip_clips_between_backward_and_step():
    x, y = make_data(n=16)
    model = new_model()
    quiet_fit(model, (x, y), epochs=2, batch_size=8, shuffle=False, grad_clip=0.05)

    reference = new_model()
    optimizer = optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(2):
        for start in (0, 8):
            optimizer.zero_grad()
            cross_entropy(reference(rg.tensor(x[start : start + 8])), rg.tensor(y[start : start + 8])).backward()
            clip_grad_norm_(reference.parameters(), 0.05)
            optimizer.step()
    assert_same_weights(model, reference)


# ---------------------------------------------------------------- output


def test_verbose_prints_a_bar_and_one_summary_line_per_epoch(capsys):
    x, y = make_data(n=16)
    model = new_model()
    train.fit(model, (x, y), loss=cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2,
              val_data=(x, y), batch_size=8, verbose=1)  # fmt: skip
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    pattern = r"Epoch {}/2 - loss: \d\.\d{{4}} - accuracy: \d\.\d{{4}} - val_loss: \d\.\d{{4}} - val_accuracy: \d\.\d{{4}} - \d+\.\d\ds"
    assert [bool(re.fullmatch(pattern.format(i), line)) for i, line in zip((1, 2), lines)] == [True, True]
    assert "Epoch 1/2" in err and "samples/s" in err

    train.fit(model, (x, y), loss=cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1), verbose=2)
    out, err = capsys.readouterr()
    assert out.startswith("Epoch 1/1 - loss:") and err == ""

    train.fit(model, (x, y), loss=cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1), verbose=0)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------- errors


def test_bad_arguments_raise_clear_errors():
    x, y = make_data(n=8)
    model = new_model()
    sgd = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"Trainer.fit: needs a loss and an optimizer"):
        train.Trainer(model, cross_entropy).fit((x, y))
    with pytest.raises(TypeError, match=r"model must be a retrograd\.nn\.Module, got function"):
        train.Trainer(cross_entropy)
    with pytest.raises(TypeError, match=r"optimizer must be a retrograd\.optim\.Optimizer, got str"):
        train.Trainer(model, cross_entropy, "sgd")
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        train.Trainer(model, cross_entropy, sgd, metrics=["acuracy"])
    with pytest.raises(ValueError, match="metric names must be unique"):
        train.Trainer(model, cross_entropy, sgd, metrics=["accuracy", "accuracy"])
    with pytest.raises(ValueError, match="batch_size must be a positive integer or None"):
        quiet_fit(model, (x, y), batch_size=0)
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        quiet_fit(model, (x, y), epochs=-1)
    with pytest.raises(ValueError, match="verbose must be 0"):
        train.fit(model, (x, y), loss=cross_entropy, optimizer=sgd, verbose=3)
    with pytest.raises(TypeError, match=r"loss function must return a scalar Tensor .* got a tensor of shape \(8,\)"):
        quiet_fit(model, (x, y), loss=lambda out, t: out.sum(1))
    with pytest.raises(TypeError, match="one-shot iterator"):
        quiet_fit(model, iter([(rg.tensor(x), rg.tensor(y))]))
    with pytest.raises(TypeError, match="a batch must be a tensor or a sequence"):
        quiet_fit(model, [{"x": rg.tensor(x), "y": rg.tensor(y)}])
    with pytest.raises(ValueError, match="each batch must hold the model's inputs and a target"):
        quiet_fit(model, x)
    with pytest.raises(TypeError, match="expected a DataLoader, a Dataset"):
        quiet_fit(model, 3)
    with pytest.raises(ValueError, match=r"TensorDataset: size mismatch"):
        quiet_fit(model, (x, y[:5]))


# ---------------------------------------------------------------- the guide


def test_the_code_blocks_of_the_training_guide_run(tmp_path, monkeypatch, capsys):
    guide = Path(__file__).resolve().parent.parent / "docs" / "training.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "training_guide"}
    for block in blocks:  # later blocks use what earlier ones defined
        exec(compile(block, str(guide), "exec"), namespace)
    assert (tmp_path / "checkpoints" / "epoch-4.safetensors").exists()
    assert "3 {'note': 'hand-written loop'}" in capsys.readouterr().out
