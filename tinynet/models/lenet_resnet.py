"""Paper 003, A. Kasarla et al., "Multiclass Classification for Fashion MNIST using Deep
Learning" (UCSD ECE 285): LeNet-5, the 2-conv batch-norm net, and ResNet-18.

LeNet-5: conv 6@5x5 (padding 2, so 28x28 works like the original 32x32), avg pool 2x2, conv
16@5x5, avg pool, FC 120, FC 84, FC 10 -- 89.87 % (boosted: 90.82 %). Activations are ReLU
(the paper does not name them).
2-conv net: conv 64 and conv 512 (3x3, padding 1; the paper gives no kernel size), each followed by
batch norm, ReLU and 2x2 max pooling, then three FC layers (512*7*7 -> 256 -> 128 -> 10) with dropout
0.35 -- about 92 % (boosted: 92.12 %). Adam 0.001, batch 64, 20 epochs.
ResNet-18 adapted to 28x28x1: a 3x3 stride-1 stem with 64 channels and no initial max pool, then
the four stages of two BasicBlocks (64, 128, 256, 512 channels; stride 2 from the second stage),
global average pooling and FC 10. The paper fine-tuned ImageNet weights at 224x224 (94.33 %); here it
trains from scratch (ImageNet weights cannot be fetched, but any compatible state dict loads).
"""
from __future__ import annotations

from .. import nn


def lenet5() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def conv2_bn(dropout=0.35) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 512, 3, padding=1), nn.BatchNorm2d(512), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(512 * 7 * 7, 256), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(dropout), nn.Linear(128, 10))


class BasicBlock(nn.Module):
    """y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut is a 1x1 conv + BN when
    the shape changes (PyTorch's ``downsample``)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + shortcut)


class ResNet18(nn.Module):
    """x (N, 1, 28, 28) -> logits (N, 10); parameter names follow torchvision's resnet18."""

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        channels = [64, 64, 128, 256, 512]
        for stage in range(1, 5):
            stride = 1 if stage == 1 else 2
            setattr(self, f"layer{stage}", nn.Sequential(BasicBlock(channels[stage - 1], channels[stage], stride),
                                                         BasicBlock(channels[stage], channels[stage])))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
        return self.fc(self.avgpool(x).reshape(x.shape[0], -1))
