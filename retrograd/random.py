"""One seeded random generator for the whole library, and ``Generator`` objects
for code that wants its own stream (a DataLoader's shuffling, say).

Like PyTorch, the default generator starts from a fixed seed, so a program
that never seeds is still reproducible; ``manual_seed`` reseeds it.
"""

from __future__ import annotations

import numpy as np

DEFAULT_SEED = 67280421310721


class Generator:
    """A stream of random numbers (NumPy's PCG64) with PyTorch's methods."""

    def __init__(self, device: str = "cpu"):
        self._seed = DEFAULT_SEED
        self.numpy = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.numpy = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; return the new seed."""
        seed = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The generator's state as plain JSON-serialisable data."""
        return {"seed": self._seed, "bit_generator": self.numpy.bit_generator.state}

    def set_state(self, state: dict) -> Generator:
        self._seed = int(state["seed"])
        bit_generator = np.random.PCG64()
        bit_generator.state = state["bit_generator"]
        self.numpy = np.random.Generator(bit_generator)
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: every later random op repeats exactly."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def numpy_generator(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (or behind the default one)."""
    return (generator or default_generator).numpy
