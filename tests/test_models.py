"""Each paper's model: output shape, and parameter count worked out from the paper's layer sizes."""
import numpy as np
import pytest

import tinynet as tn
from tinynet import models


def conv(cin, cout, k, bias=True):
    return cin * cout * k * k + (cout if bias else 0)


def fc(fan_in, fan_out):
    return fan_in * fan_out + fan_out


def lstm(inputs, hidden, layers):
    return sum(4 * hidden * ((inputs if k == 0 else hidden) + hidden) + 8 * hidden for k in range(layers))


def bn(c):
    return 2 * c


def resnet18_count():
    def block(cin, cout, stride):
        downsample = conv(cin, cout, 1, bias=False) + bn(cout) if stride != 1 or cin != cout else 0
        return conv(cin, cout, 3, False) + bn(cout) + conv(cout, cout, 3, False) + bn(cout) + downsample
    stages = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
    return conv(1, 64, 3, False) + bn(64) + sum(block(a, b, s) + block(b, b, 1) for a, b, s in stages) + fc(512, 10)


EXPECTED = {
    "lstm": (models.LSTMClassifier, lstm(28, 64, 2) + fc(64, 10)),
    "model1": (lambda: models.CNNLSTM("model1"), conv(1, 20, 3) + conv(20, 40, 5) + fc(3240, 500) + fc(500, 10)
               + lstm(10, 10, 1) + fc(10, 10)),
    "model2": (lambda: models.CNNLSTM("model2"), conv(1, 20, 3) + conv(20, 30, 3) + fc(3630, 300) + fc(300, 10)
               + lstm(10, 10, 1) + fc(10, 10)),
    "model3": (lambda: models.CNNLSTM("model3"), conv(1, 20, 3) + conv(20, 40, 5) + fc(640, 500) + fc(500, 10)
               + lstm(10, 20, 1) + fc(20, 10)),
    "model4": (lambda: models.CNNLSTM("model4"), conv(1, 10, 5) + conv(10, 20, 5) + fc(320, 100) + fc(100, 10)),
    "model5": (lambda: models.CNNLSTM("model5"), conv(1, 5, 5) + conv(5, 10, 3) + fc(1000, 100) + fc(100, 10)),
    "ann1": (lambda: models.ann("ann1"), fc(784, 256) + fc(256, 128) + fc(128, 64) + fc(64, 10)),
    "ann3": (lambda: models.ann("ann3"), fc(784, 512) + fc(512, 256) + fc(256, 128) + fc(128, 64) + fc(64, 32)
             + fc(32, 10)),
    "cnn1": (lambda: models.cnn("cnn1"), conv(1, 32, 3) + conv(32, 32, 3) + conv(32, 64, 3) + conv(64, 64, 3)
             + fc(3136, 256) + fc(256, 10)),
    "lenet5": (models.lenet5, conv(1, 6, 5) + conv(6, 16, 5) + fc(400, 120) + fc(120, 84) + fc(84, 10)),
    "conv2bn": (models.conv2_bn, conv(1, 64, 3) + bn(64) + conv(64, 512, 3) + bn(512) + fc(512 * 49, 256)
                + fc(256, 128) + fc(128, 10)),
    "resnet18": (models.ResNet18, resnet18_count()),
    "two_layer": (lambda: models.two_layer(5), fc(784, 5) + fc(5, 10)),
    "single_conv": (lambda: models.single_conv(32, 2), conv(1, 32, 2) + fc(32 * 27 * 27, 10)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_output_shape_and_parameter_count(name):
    factory, count = EXPECTED[name]
    model = factory()
    shape = (3, 28, 28) if name == "lstm" else (3, 1, 28, 28)
    with tn.no_grad():
        assert model.eval()(tn.tensor(np.zeros(shape, dtype=np.float32))).shape == (3, 10)
    assert sum(p.size for p in model.parameters()) == count


def test_cnn2_has_unit_norm_kernels_and_two_layer_truncated_normal():
    model = models.cnn("cnn2")
    assert all(layer.weight.constraint is not None for layer in model
               if type(layer).__name__ == "Conv2d")
    weights = models.two_layer(400)[1].weight.numpy()
    assert np.abs(weights).max() <= 1.0 and 0.4 < weights.std() < 0.5
