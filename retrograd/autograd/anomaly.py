"""Anomaly detection: name the op, and the user's line, that first made a NaN or Inf.

``with detect_anomaly():`` makes every op check its output and every backward
step check the gradients it returns. Nodes remember where they were created,
so a bad gradient is reported with the line of user code that built the op.
"""

from __future__ import annotations

import functools
import os
import traceback

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyMode:
    enabled = False


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that turns anomaly detection on.

    Inside it, the first op whose output has a NaN or Inf raises a
    ``FloatingPointError`` naming the op and the user's line; so does the
    first backward step that returns a non-finite gradient.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = AnomalyMode.enabled
        AnomalyMode.enabled = self.check_nan
        return self

    def __exit__(self, *exc_info):
        AnomalyMode.enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool) -> None:
    AnomalyMode.enabled = bool(mode)


def is_anomaly_enabled() -> bool:
    return AnomalyMode.enabled


def creation_stack() -> list[traceback.FrameSummary]:
    return traceback.extract_stack()[:-2]


def user_frame(stack) -> traceback.FrameSummary | None:
    """The innermost frame that is not inside retrograd itself."""
    for frame in reversed(stack):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            return frame
    return stack[-1] if stack else None


def describe_frame(frame) -> str:
    if frame is None:
        return "an unknown place"
    code = f"\n    {frame.line}" if frame.line else ""
    return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}{code}'


def _non_finite_kind(array: np.ndarray) -> str | None:
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"


def check_forward(node, out) -> None:
    kind = _non_finite_kind(out._data)
    if kind is not None:
        op = node.name().removesuffix("Backward0")
        raise FloatingPointError(
            f"anomaly detected: op {op} produced {kind} values in its output "
            f"(shape {list(out._data.shape)}), created at:\n{describe_frame(user_frame(creation_stack()))}"
        )


def check_backward(node, grads) -> None:
    for index, grad in enumerate(grads):
        if grad is None:
            continue
        kind = _non_finite_kind(grad._data)
        if kind is not None:
            where = describe_frame(user_frame(node.creation_stack or []))
            raise FloatingPointError(
                f"anomaly detected: function '{node.name()}' returned {kind} values in its "
                f"{index}th output (the gradient of input {index}, shape {list(grad._data.shape)}). "
                f"The forward op was created at:\n{where}"
            )
