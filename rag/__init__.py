"""policy-rag: question answering with cited passages over Chinese government articles."""

from importlib import metadata

__version__ = metadata.version("policy-rag")  # written once, in pyproject.toml
