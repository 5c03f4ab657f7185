"""60-minute blitz, autograd. The earlier edition: requires_grad, grad_fn, backward of a
mean, a vector-Jacobian product through a data-dependent loop, no_grad. The current one:
one training step of resnet18 (no downloaded weights), Q.backward(gradient=...), which
results require grad, and freezing all but a new fc."""
from tutorial_imports import torch, torchvision

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y * y * 3
out = z.mean()
print(z, out)

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)

out.backward()
print(x.grad)
assert torch.allclose(x.grad, torch.full((2, 2), 4.5))

x = torch.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)
gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(gradients)
print(x.grad)
scale = (y / x).detach()  # the loop multiplied x by a power of two
assert torch.allclose(x.grad, gradients * scale)

print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
    assert not (x ** 2).requires_grad

# ---- the current edition -------------------------------------------------------------------
resnet18 = torchvision.models.resnet18
model = resnet18(weights=None)
data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 1000)
prediction = model(data)
loss = (prediction - labels).sum()
loss.backward()
optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
optim.step()

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a**3 - b**2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9 * a**2 == a.grad)
print(-2 * b == b.grad)
assert bool((9 * a**2 == a.grad).all()) and bool((-2 * b == b.grad).all())

x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)
a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")
assert not a.requires_grad and b.requires_grad

nn = torch.nn
optim_module = torch.optim
model = resnet18(weights=None)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(512, 10)
optimizer = optim_module.SGD(model.parameters(), lr=1e-2, momentum=0.9)
assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
