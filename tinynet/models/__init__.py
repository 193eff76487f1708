"""The five papers' models, built only from tinynet.nn. Each docstring cites its paper."""
from .lstm_classifier import LSTMClassifier

__all__ = ["LSTMClassifier"]
