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

    mode: bool = True

    def __enter__(self):
        self._previous = GradMode.enabled
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
            GradMode.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                GradMode.enabled = previous

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Ops inside record nothing: for evaluation and for in-place parameter updates."""

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad`` (retrograd keeps no extra bookkeeping to switch off)."""

    def __init__(self, mode: bool = True):
        self.mode = not mode


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
