# Post-training QDQ quantization (vqi model quantize): plan, calibration statistics, writer.
list(APPEND VQI_ONNX_SOURCES src/quantize.cc)
list(APPEND VQI_ONNX_TESTS src/quantize_test.cc)
