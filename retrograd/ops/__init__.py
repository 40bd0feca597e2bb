"""Every differentiable op, grouped by family. Importing this package binds
the ops to ``Tensor`` as methods."""

from .methods import bind_methods

bind_methods()
