"""Neural networks: ``Module`` and its containers, layers, ``Parameter``,
weight initialisation (``nn.init``) and gradient utilities (``nn.utils``),
with PyTorch's names, arguments and ``state_dict`` layout.
"""

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F403
from .parameter import Buffer, Parameter  # noqa: F401
