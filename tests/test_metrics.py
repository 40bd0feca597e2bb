"""retrograd.train.metrics against sklearn.metrics, and the streaming metric objects."""

import numpy as np
import pytest
import sklearn.metrics as skm

import retrograd as rg
from retrograd.train import metrics

RNG = np.random.default_rng(1234)


def scores_and_labels(n=97, classes=4, rng=RNG):
    scores = rng.standard_normal((n, classes)).astype(np.float32)
    target = rng.integers(0, classes, n)
    return scores, target


# ---------------------------------------------------------------- accuracy


def test_accuracy_of_scores_matches_sklearn():
    scores, target = scores_and_labels()
    expected = skm.accuracy_score(target, scores.argmax(1))
    assert metrics.accuracy(scores, target) == expected
    assert metrics.accuracy(rg.tensor(scores), rg.tensor(target)) == expected
    assert metrics.accuracy(scores.argmax(1), target) == expected


def test_accuracy_with_one_hot_targets_and_binary_scores():
    scores, target = scores_and_labels()
    one_hot = np.eye(4, dtype=np.float32)[target]
    assert metrics.accuracy(scores, one_hot) == metrics.accuracy(scores, target)

    probabilities = RNG.random(50)
    labels = RNG.integers(0, 2, 50)
    expected = skm.accuracy_score(labels, probabilities >= 0.5)
    assert metrics.accuracy(probabilities, labels.astype(np.float32)) == expected
    assert metrics.accuracy(probabilities[:, None], labels[:, None]) == expected
    logits = probabilities - 0.5
    assert metrics.accuracy(logits, labels, threshold=0.0) == expected


def test_accuracy_errors_are_clear():
    with pytest.raises(ValueError, match=r"accuracy: preds has 3 samples but target has 2"):
        metrics.accuracy(np.zeros((3, 2)), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match=r"non-integral values.* pass metrics=\(\) to fit for regression"):
        metrics.accuracy(np.zeros((2, 1)), np.array([0.5, 1.2]))
    with pytest.raises(ValueError, match=r"accuracy: preds must be scores of shape \(N, C\).*got shape \(2, 2, 2\)"):
        metrics.accuracy(np.zeros((2, 2, 2)), np.zeros(2, np.int64))


# ---------------------------------------------------------------- top-k


@pytest.mark.filterwarnings("ignore:'k' \\(4\\) greater than or equal")
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_top_k_accuracy_matches_sklearn(k):
    scores, target = scores_and_labels()
    expected = skm.top_k_accuracy_score(target, scores, k=k, labels=range(4))
    assert metrics.top_k_accuracy(scores, target, k=k) == pytest.approx(expected, abs=0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_breaks_ties_as_sklearn_does(k):
    scores = RNG.integers(0, 3, (200, 5)).astype(np.float64)  # many equal scores
    target = RNG.integers(0, 5, 200)
    expected = skm.top_k_accuracy_score(target, scores, k=k, labels=range(5))
    assert metrics.top_k_accuracy(scores, target, k=k) == pytest.approx(expected, abs=0)


def test_top_k_accuracy_rejects_bad_arguments():
    scores, target = scores_and_labels()
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        metrics.top_k_accuracy(scores, target, k=0)
    with pytest.raises(ValueError, match=r"scores must have shape \(N, C\)"):
        metrics.top_k_accuracy(scores[:, 0], target)
    with pytest.raises(ValueError, match="class label 7 is out of range for num_classes=4"):
        metrics.top_k_accuracy(scores[:2], np.array([0, 7]))


# ---------------------------------------------------------------- confusion matrix, precision, recall


def test_confusion_matrix_matches_sklearn():
    scores, target = scores_and_labels()
    expected = skm.confusion_matrix(target, scores.argmax(1), labels=range(4))
    result = metrics.confusion_matrix(scores, target)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(scores, target, num_classes=6),
        skm.confusion_matrix(target, scores.argmax(1), labels=range(6)),
    )


def test_confusion_matrix_infers_the_classes_from_labels():
    preds, target = np.array([0, 2, 2, 1]), np.array([0, 1, 2, 2])
    np.testing.assert_array_equal(metrics.confusion_matrix(preds, target), skm.confusion_matrix(target, preds))
    with pytest.raises(ValueError, match="class label 2 is out of range for num_classes=2"):
        metrics.confusion_matrix(preds, target, num_classes=2)
    with pytest.raises(ValueError, match="class labels must be non-negative, got -1"):
        metrics.confusion_matrix(np.array([0, -1]), np.array([0, 0]))


@pytest.mark.parametrize("kind", ["precision", "recall", "f1_score"])
@pytest.mark.parametrize("average", [None, "macro", "micro"])
def test_precision_recall_f1_match_sklearn(kind, average):
    scores, target = scores_and_labels(n=60, classes=5)
    preds = scores.argmax(1)
    reference = getattr(skm, f"{kind}_score" if kind != "f1_score" else kind)
    expected = reference(target, preds, labels=range(5), average=average, zero_division=0)
    ours = getattr(metrics, kind)(scores, target, num_classes=5, average=average)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", ["precision", "recall", "f1_score"])
def test_macro_average_without_num_classes_uses_the_classes_present_as_sklearn(kind):
    # Class 1 occurs neither in the targets nor the predictions; class 3 is never predicted.
    target = np.array([0, 0, 2, 3, 3, 4])
    preds = np.array([0, 2, 2, 0, 4, 4])
    reference = getattr(skm, f"{kind}_score" if kind != "f1_score" else kind)
    expected = reference(target, preds, average="macro", zero_division=0)
    assert getattr(metrics, kind)(preds, target) == pytest.approx(expected, abs=1e-15)
    per_class = getattr(metrics, kind)(preds, target, average=None)
    np.testing.assert_allclose(per_class[[0, 2, 3, 4]], reference(target, preds, average=None, zero_division=0))


def test_binary_precision_and_recall_from_probabilities():
    probabilities = RNG.random(80)
    labels = RNG.integers(0, 2, 80)
    predicted = (probabilities >= 0.5).astype(int)
    np.testing.assert_allclose(
        metrics.precision(probabilities, labels, average=None), skm.precision_score(labels, predicted, average=None)
    )
    np.testing.assert_allclose(
        metrics.recall(probabilities, labels, average=None), skm.recall_score(labels, predicted, average=None)
    )


def test_precision_rejects_an_unknown_average():
    with pytest.raises(ValueError, match=r"average must be None \(per class\), 'macro' or 'micro', got 'weighted'"):
        metrics.precision(np.array([0, 1]), np.array([0, 1]), average="weighted")


# ---------------------------------------------------------------- streaming metrics


def batches(scores, target, size=16):
    for start in range(0, len(target), size):
        yield scores[start : start + size], target[start : start + size]


@pytest.mark.parametrize(
    ("metric", "function"),
    [
        (metrics.Accuracy(), metrics.accuracy),
        (metrics.TopKAccuracy(k=2), lambda s, t: metrics.top_k_accuracy(s, t, k=2)),
        (metrics.Precision(), metrics.precision),
        (metrics.Recall(average="micro"), lambda s, t: metrics.recall(s, t, average="micro")),
        (metrics.F1Score(num_classes=6), lambda s, t: metrics.f1_score(s, t, num_classes=6)),
    ],
)
def test_streaming_metrics_equal_the_whole_array_functions(metric, function):
    # Labels 0-2 in the first batches and class 3 only later, so the confusion matrix must grow.
    scores, target = scores_and_labels(n=70, classes=4)
    scores[:32, 3] = -10
    target[:32] = np.minimum(target[:32], 2)
    metric.reset()
    for batch_scores, batch_target in batches(rg.tensor(scores), rg.tensor(target)):
        metric.update(batch_scores, batch_target)
    assert metric.compute() == pytest.approx(function(scores, target), abs=1e-12)
    metric.reset()
    assert np.isnan(metric.compute())


def test_mean_metric_weights_batches_by_size():
    def mean_value(outputs, target):
        return outputs.mean()

    metric = metrics.MeanMetric(mean_value)
    assert metric.name == "mean_value"
    metric.update(rg.tensor([1.0, 1.0, 1.0]), None)
    metric.update(rg.tensor([5.0]), None)
    assert metric.compute() == 2.0


def test_get_metric_resolves_names_objects_and_functions():
    assert isinstance(metrics.get_metric("accuracy"), metrics.Accuracy)
    assert metrics.get_metric("top_k_accuracy").name == "top_5_accuracy"
    assert metrics.get_metric("f1").name == "f1"
    assert metrics.get_metric("precision").name == "precision"
    assert metrics.Precision(average="micro").name == "micro_precision"
    own = metrics.Accuracy(name="acc")
    assert metrics.get_metric(own) is own
    assert isinstance(metrics.get_metric(lambda o, t: 0.0), metrics.MeanMetric)
    with pytest.raises(ValueError, match="unknown metric 'accuracyy'; known names: accuracy"):
        metrics.get_metric("accuracyy")
    with pytest.raises(TypeError, match="a metric must be a name, a Metric or a function, got int"):
        metrics.get_metric(3)
    with pytest.raises(ValueError, match="a logged metric must be one number"):
        metrics.Precision(average=None)
