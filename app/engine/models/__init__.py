"""Models: the registry with verified downloads, ONNX Runtime providers, the lip-sync runners."""
