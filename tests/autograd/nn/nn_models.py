"""Architectures and module constructors built the same way in torch.nn and ember.nn."""


def _build(N):
    """A small ResNet-like stem in either library (``N`` is torch.nn or ember.nn)."""
    class Block(N.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = N.Conv2d(4, 4, 3, padding=1, bias=False)
            self.bn1 = N.BatchNorm2d(4)
            self.relu = N.ReLU(inplace=True)
            self.downsample = N.Sequential(N.Conv2d(4, 4, 1, bias=False), N.BatchNorm2d(4))

        def forward(self, x):
            return self.relu(self.bn1(self.conv1(x)) + self.downsample(x))

    class Net(N.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = N.Conv2d(3, 4, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = N.BatchNorm2d(4)
            self.relu = N.ReLU(inplace=True)
            self.maxpool = N.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = N.Sequential(Block(), Block())
            self.avgpool = N.AdaptiveAvgPool2d((1, 1))
            self.fc = N.Linear(4, 5)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.avgpool(self.layer1(x))
            return self.fc(torch_flatten(x))

    def torch_flatten(x):
        return x.flatten(1)

    return Net()


def _strip_bias(text):
    # Ember prints the tutorial's BatchNorm repr: no "bias=True" (see batchnorm.py)
    return text.replace(", bias=True, track_running_stats", ", track_running_stats")


REPRS = [
    lambda N: N.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),
    lambda N: N.Conv2d(4, 8, 3, padding="same", dilation=2, groups=2),
    lambda N: N.BatchNorm2d(64), lambda N: N.BatchNorm1d(5, affine=False, momentum=None),
    lambda N: N.LayerNorm((4, 5)), lambda N: N.LayerNorm(4, elementwise_affine=False),
    lambda N: N.ReLU(inplace=True), lambda N: N.ReLU(), lambda N: N.LeakyReLU(0.2),
    lambda N: N.GELU(), lambda N: N.GELU("tanh"), lambda N: N.Sigmoid(), lambda N: N.Tanh(),
    lambda N: N.Softmax(dim=1), lambda N: N.LogSoftmax(), lambda N: N.MaxPool2d(3, 2, 1),
    lambda N: N.AvgPool2d(2), lambda N: N.AdaptiveAvgPool2d((1, 1)),
    lambda N: N.AdaptiveAvgPool2d(1), lambda N: N.Dropout(0.2), lambda N: N.Embedding(10, 3, 0),
    lambda N: N.Flatten(), lambda N: N.Unflatten(1, (2, 3)), lambda N: N.Identity(),
    lambda N: N.Linear(512, 10), lambda N: N.Linear(3, 2, bias=False),
    lambda N: N.CrossEntropyLoss(), lambda N: N.NLLLoss(), lambda N: N.MSELoss(),
    lambda N: N.L1Loss(), lambda N: N.BCEWithLogitsLoss(),
    lambda N: N.ModuleList([N.Linear(2, 2), N.Linear(2, 2), N.ReLU()]),
    lambda N: N.ModuleDict({"a": N.ReLU(), "b": N.Sequential(N.Tanh())}),
    lambda N: N.Sequential(), lambda N: N.Sequential(N.Linear(2, 3), N.ReLU())[1:],
]
