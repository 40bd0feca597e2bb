"""retrograd.train callbacks: EarlyStopping, ModelCheckpoint, TerminateOnNaN,
LearningRateScheduler, GradientClipping, History, ProgressBar and user callbacks."""

import math
import re

import numpy as np
import pytest

import retrograd as rg
from retrograd import io, nn, optim, train
from retrograd.optim import lr_scheduler


def cross_entropy(logits, target):
    return -rg.log_softmax(logits, 1).gather(1, target.unsqueeze(1)).mean()


def mse(outputs, target):
    return ((outputs - target) ** 2).mean()


def make_data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, (x @ rng.standard_normal((4, 3)).astype(np.float32)).argmax(1).astype(np.int64)


def new_model(seed=0):
    rg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))


def weights(model):
    return {key: value.numpy().copy() for key, value in model.state_dict().items()}


class ScriptedValues(train.Callback):
    """Overwrites epoch logs with scripted values (before the other callbacks see them)
    and keeps a copy of the weights at the end of every epoch."""

    order = -40

    def __init__(self, **scripts):
        super().__init__()
        self.scripts = scripts
        self.weights = []

    def on_epoch_end(self, epoch, logs):
        for name, values in self.scripts.items():
            logs[name] = values[epoch]
        self.weights.append(weights(self.model))


def fit_scripted(callbacks, epochs=10, **scripts):
    x, y = make_data()
    model = new_model()
    script = ScriptedValues(**scripts)
    history = train.fit(
        model,
        (x, y),
        loss=cross_entropy,
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=epochs,
        batch_size=16,
        callbacks=[script, *callbacks],
        verbose=0,
    )
    return model, history, script


# ---------------------------------------------------------------- EarlyStopping


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    early = train.EarlyStopping(patience=2)
    _, history, _ = fit_scripted([early], val_loss=[1.0, 0.8, 0.9, 0.85, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    assert early.stopped_epoch == 3 and len(history) == 4
    assert (early.best, early.best_epoch, early.wait) == (0.8, 1, 2)
    assert early.trainer.stop_reason == (
        "early stopping after epoch 4: val_loss did not improve for 2 epochs (best 0.8 at epoch 2)"
    )


def test_early_stopping_restores_the_best_weights():
    early = train.EarlyStopping(patience=3, restore_best_weights=True)
    model, history, script = fit_scripted([early], val_loss=[1.0, 0.9, 0.5, 0.6, 0.7, 0.8, 0.1, 0, 0, 0])
    assert len(history) == 6 and early.best_epoch == 2
    best = script.weights[2]
    assert not np.array_equal(script.weights[-1]["0.weight"], best["0.weight"])
    for key, value in weights(model).items():
        np.testing.assert_array_equal(value, best[key])


def test_early_stopping_min_delta_mode_and_start_epoch():
    early = train.EarlyStopping(patience=1, min_delta=0.1)
    _, history, _ = fit_scripted([early], val_loss=[1.0, 0.95, 0.5, 0.45, 0.3, 0.2, 0.1, 0.0, 0.0, 0.0])
    assert early.stopped_epoch == 1  # 0.95 does not beat 1.0 by more than 0.1

    early = train.EarlyStopping(monitor="val_accuracy", patience=1)
    assert early.mode == "max"
    fit_scripted([early], val_accuracy=[0.5, 0.6, 0.7, 0.65, 0.9, 1, 1, 1, 1, 1])
    assert early.stopped_epoch == 3

    early = train.EarlyStopping(patience=0, start_from_epoch=3)
    _, history, _ = fit_scripted([early], val_loss=[1, 2, 3, 0.5, 0.6, 0.1, 0, 0, 0, 0])
    assert early.stopped_epoch == 4 and early.best_epoch == 3 and len(history) == 5


def test_early_stopping_baseline_must_be_beaten_within_patience():
    early = train.EarlyStopping(patience=3, baseline=0.5)
    _, history, _ = fit_scripted([early], val_loss=[0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0])
    assert early.stopped_epoch == 2 and len(history) == 3  # improving, but never below 0.5
    assert early.best == 0.7

    early = train.EarlyStopping(patience=3, baseline=0.5)
    _, history, _ = fit_scripted([early], val_loss=[0.9, 0.8, 0.4, 0.6, 0.7, 0.5, 0.3, 0.1, 0.0, 0.0])
    assert early.stopped_epoch == 5 and early.best_epoch == 2


def test_early_stopping_warns_when_the_monitored_value_is_missing():
    early = train.EarlyStopping(monitor="val_loss", patience=0)
    x, y = make_data()
    model = new_model()
    with pytest.warns(RuntimeWarning, match=r"'val_loss' is not in the epoch logs \(available: loss, accuracy, lr\)"):
        history = train.fit(model, (x, y), loss=cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1),
                            epochs=2, callbacks=[early], verbose=0)  # fmt: skip
    assert len(history) == 2


def test_early_stopping_rejects_bad_settings():
    with pytest.raises(ValueError, match="patience must be >= 0"):
        train.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'lowest'"):
        train.EarlyStopping(mode="lowest")


# ---------------------------------------------------------------- ModelCheckpoint


def test_model_checkpoint_best_only_writes_only_on_improvement(tmp_path):
    checkpoint = train.ModelCheckpoint(tmp_path / "best-{epoch:02d}-{val_loss:.1f}.safetensors", save_best_only=True)
    _, _, script = fit_scripted([checkpoint], epochs=6, val_loss=[1.0, 0.5, 0.7, 0.4, 0.4, 0.6])
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["best-01-1.0.safetensors", "best-02-0.5.safetensors", "best-04-0.4.safetensors"]
    assert checkpoint.best == 0.4 and checkpoint.last_path.endswith("best-04-0.4.safetensors")

    restored = new_model(seed=1)
    info = io.load_checkpoint(tmp_path / "best-04-0.4.safetensors", restored)
    assert info["epoch"] == 4
    for key, value in weights(restored).items():
        np.testing.assert_array_equal(value, script.weights[3][key])


def test_model_checkpoint_overwrites_one_file_atomically_and_honours_save_freq(tmp_path):
    checkpoint = train.ModelCheckpoint(tmp_path / "last.safetensors", save_freq=2)
    fit_scripted([checkpoint], epochs=5, val_loss=[1.0] * 5)
    assert [path.name for path in tmp_path.iterdir()] == ["last.safetensors"]
    assert io.load_checkpoint(tmp_path / "last.safetensors", restore_rng=False)["epoch"] == 4


def test_model_checkpoint_weights_only_writes_a_plain_state_dict(tmp_path):
    checkpoint = train.ModelCheckpoint(tmp_path / "sub" / "weights.safetensors", save_weights_only=True)
    model, _, _ = fit_scripted([checkpoint], epochs=2, val_loss=[1.0, 0.9])
    loaded = io.load(tmp_path / "sub" / "weights.safetensors")
    assert sorted(loaded) == sorted(model.state_dict())
    with pytest.raises(io.CorruptFileError, match="not a retrograd checkpoint"):
        io.load_checkpoint(tmp_path / "sub" / "weights.safetensors")


def test_model_checkpoint_errors_and_warnings(tmp_path):
    with pytest.raises(
        ValueError, match=r"cannot fill in filepath '.*\{val_acc\}.*' from the epoch number and the logs"
    ):
        fit_scripted([train.ModelCheckpoint(str(tmp_path / "{val_acc}.safetensors"))], epochs=1, val_loss=[1.0])
    with pytest.warns(RuntimeWarning, match="can save best model only with 'val_f1' available"):
        fit_scripted([train.ModelCheckpoint(tmp_path / "x.safetensors", monitor="val_f1", save_best_only=True)],
                     epochs=1, val_loss=[1.0])  # fmt: skip
    with pytest.raises(ValueError, match="save_freq must be a positive number of epochs"):
        train.ModelCheckpoint(tmp_path / "x.safetensors", save_freq=0)


# ---------------------------------------------------------------- TerminateOnNaN


def regression_data(n=32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype(np.float32) * 10
    return x, (x @ rng.standard_normal((4, 1)).astype(np.float32))


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_terminate_on_nan_stops_a_diverging_run_naming_epoch_and_batch():
    x, y = regression_data()
    rg.manual_seed(0)
    model = nn.Linear(4, 1)
    guard = train.TerminateOnNaN()
    with pytest.warns(RuntimeWarning, match=r"non-finite loss \((inf|nan)\) at epoch \d+, batch \d+: training stopped"):
        history = train.fit(model, (x, y), loss=mse, optimizer=optim.SGD(model.parameters(), lr=10.0), metrics=(),
                            epochs=50, batch_size=8, callbacks=[guard], verbose=0)  # fmt: skip
    epoch, batch = map(int, re.search(r"epoch (\d+), batch (\d+)", guard.trainer.stop_reason).groups())
    assert len(history) == epoch < 50 and 1 <= batch <= 4
    assert all(math.isfinite(value) for value in history["loss"][:-1])


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_without_terminate_on_nan_the_diverging_run_goes_on():
    x, y = regression_data()
    rg.manual_seed(0)
    model = nn.Linear(4, 1)
    history = train.fit(model, (x, y), loss=mse, optimizer=optim.SGD(model.parameters(), lr=10.0), metrics=(),
                        epochs=10, batch_size=8, verbose=0)  # fmt: skip
    assert len(history) == 10 and not math.isfinite(history["loss"][-1])


def test_terminate_on_nan_can_skip_the_bad_batches():
    x, y = make_data(n=32)
    calls = []

    def sometimes_nan(outputs, target):
        calls.append(None)
        loss = cross_entropy(outputs, target)
        return loss * float("nan") if len(calls) in (2, 7) else loss

    model = new_model()
    guard = train.TerminateOnNaN(action="skip")
    with pytest.warns(RuntimeWarning) as caught:
        history = train.fit(model, (x, y), loss=sometimes_nan, optimizer=optim.SGD(model.parameters(), lr=0.1),
                            epochs=2, batch_size=8, shuffle=False, callbacks=[guard], verbose=0)  # fmt: skip
    assert [str(w.message) for w in caught] == [
        "TerminateOnNaN: non-finite loss (nan) at epoch 1, batch 2: batch skipped",
        "TerminateOnNaN: non-finite loss (nan) at epoch 2, batch 3: batch skipped",
    ]
    assert guard.skipped == [(0, 1), (1, 2)]
    assert len(history) == 2 and all(math.isfinite(v) for v in history["loss"])
    assert all(np.isfinite(value).all() for value in weights(model).values())

    # The same run with those two batches' steps left out by hand.
    reference = new_model()
    optimizer = optim.SGD(reference.parameters(), lr=0.1)
    for step in range(8):
        if step in (1, 6):
            continue
        start = (step % 4) * 8
        optimizer.zero_grad()
        cross_entropy(reference(rg.tensor(x[start : start + 8])), rg.tensor(y[start : start + 8])).backward()
        optimizer.step()
    for key, value in weights(reference).items():
        np.testing.assert_array_equal(weights(model)[key], value)


def test_terminate_on_nan_rejects_unknown_actions():
    with pytest.raises(ValueError, match="action must be 'stop' or 'skip', got 'ignore'"):
        train.TerminateOnNaN("ignore")


# ---------------------------------------------------------------- schedulers and clipping


def test_learning_rate_scheduler_steps_one_cycle_per_batch():
    x, y = make_data(n=32)
    model = new_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, epochs=3, steps_per_epoch=4)
    rates = []

    class Rates(train.Callback):
        def on_batch_begin(self, batch, logs):
            rates.append(self.trainer.optimizer.param_groups[0]["lr"])

    train.fit(model, (x, y), loss=cross_entropy, optimizer=optimizer, epochs=3, batch_size=8, verbose=0,
              callbacks=[train.LearningRateScheduler(scheduler, interval="batch"), Rates()])  # fmt: skip

    reference_optimizer = optim.SGD(new_model().parameters(), lr=0.1, momentum=0.9)
    reference = lr_scheduler.OneCycleLR(reference_optimizer, max_lr=0.5, epochs=3, steps_per_epoch=4)
    expected = []
    for _ in range(12):
        expected.append(reference_optimizer.param_groups[0]["lr"])
        reference_optimizer.step()
        reference.step()
    assert rates == expected


def test_learning_rate_scheduler_errors():
    optimizer = optim.SGD(new_model().parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"expected a retrograd\.optim\.lr_scheduler scheduler, got SGD"):
        train.LearningRateScheduler(optimizer)
    with pytest.raises(ValueError, match="interval must be 'epoch' or 'batch', got 'step'"):
        train.LearningRateScheduler(lr_scheduler.StepLR(optimizer, 1), interval="step")
    plateau = train.LearningRateScheduler(lr_scheduler.ReduceLROnPlateau(optimizer), monitor="val_loss")
    x, y = make_data()
    model = new_model()
    with pytest.raises(KeyError, match="ReduceLROnPlateau monitors 'val_loss', which is not in the epoch logs"):
        train.fit(model, (x, y), loss=cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1),
                  callbacks=[plateau], verbose=0)  # fmt: skip


def test_gradient_clipping_logs_the_norm_and_bounds_the_step():
    x, y = make_data(n=16)
    norms = []

    class AfterClipping(train.Callback):
        order = -5  # after GradientClipping (-10), before the step

        def on_after_backward(self, batch, logs):
            clipped = math.sqrt(sum(float((p.grad**2).sum()) for p in self.model.parameters()))
            norms.append((logs["grad_norm"], clipped))

    model = new_model()
    train.fit(model, (x, y), loss=cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=2,
              batch_size=8, callbacks=[AfterClipping(), train.GradientClipping(0.1)], verbose=0)  # fmt: skip
    assert len(norms) == 4
    for before, after in norms:
        assert before > 0.1 and after == pytest.approx(0.1, rel=1e-4)
    with pytest.raises(ValueError, match="max_norm must be positive, got 0"):
        train.GradientClipping(0)


# ---------------------------------------------------------------- History and ProgressBar


def test_history_records_and_finds_the_best_epoch(tmp_path):
    _, history, _ = fit_scripted([], epochs=4, val_loss=[0.9, 0.3, 0.3, 0.5], val_accuracy=[0.1, 0.7, 0.9, 0.9])
    assert history["val_loss"] == [0.9, 0.3, 0.3, 0.5] and "val_loss" in history
    assert history.best() == (1, 0.3)
    assert history.best("val_accuracy") == (2, 0.9)
    assert history.best("val_accuracy", mode="min") == (0, 0.1)
    with pytest.raises(KeyError, match="no 'val_f1' recorded"):
        history.best("val_f1")
    copy = train.History()
    copy.load_state_dict(history.state_dict())
    assert copy.history == history.history and copy.epoch == history.epoch
    assert repr(history).startswith("History(epochs=4, last={")

    import matplotlib

    matplotlib.use("Agg")
    ax = history.plot(["loss", "val_loss"])
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss"]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3, 4]
    import matplotlib.pyplot as plt

    plt.close(ax.figure)  # History.plot opens a pyplot figure for the caller; close it so no test sees it


def test_progress_bar_lines_go_to_the_given_streams():
    import io as text_io

    lines, bar = text_io.StringIO(), text_io.StringIO()
    x, y = make_data(n=16)
    model = new_model()
    trainer = train.Trainer(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1),
                            callbacks=[train.ProgressBar(1, file=lines, bar_file=bar)], verbose=0)  # fmt: skip
    trainer.fit((x, y), epochs=2, batch_size=4)
    assert re.fullmatch(
        r"Epoch 1/2 - loss: \d\.\d{4} - accuracy: \d\.\d{4} - \d+\.\d\ds\nEpoch 2/2 - loss: .*s\n", lines.getvalue()
    )
    assert "Epoch 2/2" in bar.getvalue() and "samples/s" in bar.getvalue()
    with pytest.raises(ValueError, match=r"verbose must be 1 .* or 2"):
        train.ProgressBar(0)


# ---------------------------------------------------------------- your own callback


def test_a_user_callback_as_in_the_docs():
    class StopAtAccuracy(train.Callback):
        """Stop once the training accuracy reaches a target."""

        def __init__(self, target=0.9):
            super().__init__()
            self.target = target

        def on_epoch_end(self, epoch, logs):
            if logs["accuracy"] >= self.target:
                self.trainer.stop_training = True

    x, y = make_data(n=64)
    model = new_model()
    history = train.fit(model, (x, y), loss=cross_entropy, optimizer=optim.SGD(model.parameters(), lr=0.5),
                        epochs=100, batch_size=8, callbacks=[StopAtAccuracy(0.9)], verbose=0)  # fmt: skip
    assert history["accuracy"][-1] >= 0.9 > max(history["accuracy"][:-1])
    assert len(history) < 100


def test_callbacks_must_be_callback_instances():
    model = new_model()
    with pytest.raises(TypeError, match="callbacks must be Callback instances, got function"):
        train.Trainer(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), callbacks=[lambda logs: None])


def test_callback_state_round_trips_through_a_checkpoint(tmp_path):
    early = train.EarlyStopping(patience=5, restore_best_weights=True)
    checkpoint = train.ModelCheckpoint(tmp_path / "c.safetensors", save_best_only=True)
    fit_scripted([early, checkpoint], epochs=3, val_loss=[0.9, 0.4, 0.6])

    model = new_model(seed=3)
    fresh_early = train.EarlyStopping(patience=5, restore_best_weights=True)
    fresh_checkpoint = train.ModelCheckpoint(tmp_path / "c.safetensors", save_best_only=True)
    trainer = train.Trainer(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1),
                            callbacks=[fresh_early, fresh_checkpoint], verbose=0)  # fmt: skip
    trainer.load_checkpoint(tmp_path / "c.safetensors")
    assert (fresh_early.best, fresh_early.best_epoch, fresh_early.wait) == (0.4, 1, 0)
    for key, value in early.best_weights.items():
        np.testing.assert_array_equal(fresh_early.best_weights[key], value)
    assert fresh_checkpoint.best == 0.4
    assert trainer.history["val_loss"] == [0.9, 0.4]
