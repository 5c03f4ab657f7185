"""Finetuning with frozen parameters: only the new classifier learns."""
import ember as torch
from ember import nn, optim
from ember_vision.models import ResNet18_Weights, resnet18

model = resnet18(weights=ResNet18_Weights.DEFAULT)
print(model)
for child in model.children():
    print(child)
print("parameters" in dir(model), "fc" in dir(model))

# Freeze all the parameters in the network
for param in model.parameters():
    param.requires_grad = False

model.fc = nn.Linear(512, 10)  # new classifier, trainable by default

# Optimize only the classifier
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

before = {name: p.detach().clone() for name, p in model.named_parameters()}
data = torch.rand(2, 3, 64, 64)
loss = model(data).sum()
loss.backward()
optimizer.step()

trainable = [name for name, p in model.named_parameters() if p.grad is not None]
print("parameters with gradients:", trainable)
frozen_ok = all(p.grad is None and torch.equal(p.detach(), before[name])
                for name, p in model.named_parameters() if not name.startswith("fc."))
print("frozen parameters have no grad and did not change:", frozen_ok)
print("fc.weight changed:", not torch.equal(before["fc.weight"], model.fc.weight.detach()))

with torch.no_grad():
    out = model(data)
print(out.requires_grad, out.shape)
