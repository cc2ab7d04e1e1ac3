"""Every fragment on the dashboard guards itself (see ``feedback.guarded_fragment``): a
fragment rerun runs outside its page's ``guarded``, so a bare ``st.fragment`` would show
Streamlit's own error box when the database stops answering."""

from __future__ import annotations

import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
BARE = re.compile(r"\bst\.(fragment|experimental_fragment)\b")


def test_no_page_or_component_uses_a_bare_st_fragment() -> None:
    allowed = DASHBOARD / "components" / "feedback.py"  # where the guarded one is built
    bare = [
        f"{path.relative_to(DASHBOARD)}:{number}"
        for path in sorted(DASHBOARD.rglob("*.py"))
        if path != allowed
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BARE.search(line) and not line.lstrip().startswith("#")
    ]
    assert bare == []
