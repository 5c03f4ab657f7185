"""One training step on a pretrained ResNet-18 ("A Gentle Introduction to torch.autograd").

Only the imports differ from the PyTorch tutorial. The weights are torchvision's
resnet18-f37072fd.pth, downloaded once (with a progress bar) into Ember's cache.
"""
import warnings

import ember as torch
import ember_vision as torchvision
from ember_vision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.DEFAULT)          # current torchvision API
with warnings.catch_warnings(record=True) as caught:        # older API: same weights + warning
    warnings.simplefilter("always")
    model = torchvision.models.resnet18(pretrained=True)
for w in caught:
    print(f"{w.category.__name__}: {w.message}")

data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 1000)
print(data.shape)
print(len(labels[0]))

prediction = model(data)  # forward pass
print(prediction.shape)
print(prediction)

loss = (prediction - labels).sum()
print(loss)
print(type(loss))
loss.backward()  # backward pass
print("every parameter has .grad:", all(p.grad is not None for p in model.parameters()))

optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
before = model.fc.weight.detach().clone()
optim.step()  # gradient descent
print("step changed fc.weight:", not torch.equal(before, model.fc.weight.detach()))
print(torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.95))
