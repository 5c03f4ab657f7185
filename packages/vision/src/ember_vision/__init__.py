"""ember_vision: torchvision's models, weights, transforms and datasets for Ember."""
