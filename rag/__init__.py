"""policy-rag: question answering with cited passages over Chinese government articles."""

__version__ = "0.1.0"
