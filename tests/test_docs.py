"""The code blocks of the user guide run as written."""

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_guide_code_block_runs(code, capsys):
    exec(compile(code, str(GUIDE), "exec"), {"__name__": "guide"})


def test_guide_has_code_blocks():
    assert len(BLOCKS) >= 8
