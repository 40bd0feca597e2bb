"""``python -m retrograd``: the ``retrograd`` command (see ``retrograd.cli``)."""

from .cli import main

raise SystemExit(main())
