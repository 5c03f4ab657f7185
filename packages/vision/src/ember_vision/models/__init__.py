"""torchvision.models for Ember: ResNets, their weights enums, and the model registry."""
from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, \
    get_weight, list_models
from .resnet import (
    BasicBlock, Bottleneck, ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights,
    ResNet101_Weights, ResNet152_Weights, resnet18, resnet34, resnet50, resnet101, resnet152,
)
