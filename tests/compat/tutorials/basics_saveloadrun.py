"""Learn the Basics, save and load: a torchvision model's state dict saved and loaded
(weights_only=True) into a fresh instance, eval(), then the whole model saved and loaded
with weights_only=False. Model: resnet18 without downloaded weights, for size and speed
(the tutorial's vgg16 with ImageNet weights is a 528 MB download)."""
from tutorial_imports import torch, torchvision

models = torchvision.models

model = models.resnet18(weights=None)
torch.save(model.state_dict(), 'model_weights.pth')

model = models.resnet18()
model.load_state_dict(torch.load('model_weights.pth', weights_only=True))
model.eval()

torch.save(model, 'model.pth')
model = torch.load('model.pth', weights_only=False)
with torch.no_grad():
    out = model(torch.rand(1, 3, 64, 64))
assert out.shape == (1, 1000)
