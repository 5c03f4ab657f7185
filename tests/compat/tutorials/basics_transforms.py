"""Learn the Basics, transforms: ToTensor for the images and a Lambda target transform that
one-hot encodes the label with scatter_."""
from tutorial_imports import DATA, torch, torchvision

datasets = torchvision.datasets
ToTensor = torchvision.transforms.ToTensor
Lambda = torchvision.transforms.Lambda

ds = datasets.FashionMNIST(
    root=DATA, train=True, download=True, transform=ToTensor(),
    target_transform=Lambda(lambda y: torch.zeros(10, dtype=torch.float).scatter_(
        0, torch.tensor(y), value=1)))

image, target = ds[0]
print(image.shape, target)
assert image.dtype == torch.float32 and 0.0 <= image.min() and image.max() <= 1.0
assert target.sum().item() == 1.0 and target.shape == (10,)
