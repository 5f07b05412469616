"""The render engine: PyAV, numpy, OpenCV and ONNX Runtime. No Qt here except workers.py."""
