"""The five papers' models, built only from tinynet.nn. Each module's docstring cites its paper,
the table row and the interpretation chosen where the paper is vague."""
from .ann_cnn import ann, cnn
from .cnn_lstm import CNNLSTM
from .lenet_resnet import BasicBlock, ResNet18, conv2_bn, lenet5
from .lstm_classifier import LSTMClassifier
from .two_layer import single_conv, two_layer

__all__ = ["LSTMClassifier", "CNNLSTM", "ann", "cnn", "lenet5", "conv2_bn", "ResNet18", "BasicBlock",
           "two_layer", "single_conv"]
