"""Example questions the chat page offers; tests check that the corpus answers each of them."""

from __future__ import annotations

EXAMPLES: dict[str, list[str]] = {
    "zh": ["公积金贷款最高额度是多少？", "今年民心工程有多少项？", "以旧换新补贴有哪些？", "天津地铁8号线有什么进展？"],
    "en": ["公积金贷款最高额度是多少？", "今年民心工程有多少项？", "以旧换新补贴有哪些？", "天津地铁8号线有什么进展？"],
}
