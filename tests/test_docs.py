"""The Python code blocks of the README and the user guide run as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "docs" / "guide.md"]
BLOCKS = [
    pytest.param(page, code, id=f"{page.stem}-block{i}")
    for page in PAGES
    for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL))
]


@pytest.mark.parametrize(("page", "code"), BLOCKS)
def test_code_block_runs(page, code):
    exec(compile(code, str(page), "exec"), {"__name__": "docs"})


def test_pages_have_code_blocks():
    assert len(BLOCKS) >= 9
