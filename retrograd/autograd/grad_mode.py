"""Grad mode: whether ops record the backward graph.

One process-wide switch read by every op; context managers that also work as
decorators, with PyTorch's names."""

from __future__ import annotations

import functools


class GradMode:
    """Holds the switch. A class attribute so the hot path reads it in one lookup."""

    enabled = True


def is_grad_enabled() -> bool:
    return GradMode.enabled


class _GradModeContext:
    """Base of the context managers: sets the mode on enter, restores on exit,
    and wraps functions when used as a decorator."""

    mode: bool | None = True  # None: leave grad mode as it is

    def __enter__(self):
        self._previous = GradMode.enabled
        if self.mode is not None:
            GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        GradMode.enabled = self._previous
        return False

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = GradMode.enabled
            if mode is not None:
                GradMode.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                GradMode.enabled = previous

        return wrapper


class _BareDecorator(_GradModeContext):
    """Also usable as ``@no_grad`` without parentheses, like PyTorch's."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecorator):  # noqa: N801 - PyTorch's name
    """Ops inside record nothing: for evaluation and for in-place parameter updates."""

    mode = False


class enable_grad(_BareDecorator):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad`` (retrograd keeps no extra bookkeeping to switch off);
    ``inference_mode(False)`` leaves grad mode as it is."""

    def __new__(cls, mode=True):
        if callable(mode):  # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = False if mode else None
        self._inference = bool(mode)

    def __enter__(self):
        self._previous_inference = InferenceMode.enabled
        InferenceMode.enabled = self._inference
        return super().__enter__()

    def __exit__(self, *exc_info):
        InferenceMode.enabled = self._previous_inference
        return super().__exit__(*exc_info)

    def __call__(self, func):
        inference = self._inference
        inner = super().__call__(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = InferenceMode.enabled
            InferenceMode.enabled = inference
            try:
                return inner(*args, **kwargs)
            finally:
                InferenceMode.enabled = previous

        return wrapper


class InferenceMode:
    enabled = False


def is_inference_mode_enabled() -> bool:
    return InferenceMode.enabled


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set recording on or off; takes effect immediately, like PyTorch's."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous = GradMode.enabled
        GradMode.enabled = self.mode

    def __enter__(self):
        return self

    def __call__(self, func):
        GradMode.enabled = self._previous  # used as a decorator: undo the immediate effect
        return super().__call__(func)
