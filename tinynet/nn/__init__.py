"""Layers and containers, ``from tinynet import nn`` (like torch.nn)."""
from . import init
from .layers import (
                     AdaptiveAvgPool2d,
                     AvgPool2d,
                     BatchNorm1d,
                     BatchNorm2d,
                     Conv2d,
                     CrossEntropyLoss,
                     Dropout,
                     Flatten,
                     LeakyReLU,
                     Linear,
                     LogSoftmax,
                     MaxPool2d,
                     MSELoss,
                     NLLLoss,
                     ReLU,
                     Sigmoid,
                     Softmax,
                     Tanh,
)
from .lstm import LSTM, LSTMCell
from .module import Module, ModuleList, Parameter, Sequential

__all__ = [name for name in dir() if not name.startswith("_")]
