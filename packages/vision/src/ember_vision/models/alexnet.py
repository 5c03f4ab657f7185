"""AlexNet as torchvision builds it (the "one weird trick" variant: 64-192-384-256-256)."""
import ember
from ember import nn

from ._api import WeightsEnum, build_with_weights, model_builder
from ._meta import imagenet_weights

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet_weights(
        "alexnet-owt-7be5be79.pth", num_params=61100840, acc1=56.522, acc5=79.066, ops=0.714,
        size=233.087, min_size=(63, 63), docs="simplified",
        recipe="https://github.com/pytorch/vision/tree/main/references/classification"
               "#alexnet-and-vgg")
    DEFAULT = IMAGENET1K_V1


def _alexnet(weights, progress, **kwargs):
    return build_with_weights(AlexNet, weights, progress, **kwargs)


alexnet = model_builder(
    "alexnet", AlexNet_Weights, _alexnet,
    "AlexNet from `One weird trick for parallelizing convolutional neural networks "
    "<https://arxiv.org/abs/1404.5997>`__; keywords go to :class:`AlexNet`.")
