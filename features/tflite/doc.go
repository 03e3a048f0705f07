// Package tflite reads TensorFlow Lite flatbuffer models in pure Go and runs them
// in float32 on dequantized weights.
//
// The reader (Parse, Load) is a small bounds-checked FlatBuffers walker over the
// parts of the TFLite schema that inference needs: the first subgraph's tensors
// (shape, type, buffer, quantization), operators with their builtin options, and
// the operator codes. No generated code and no flatc are needed; malformed files
// give errors, never panics.
//
// Quantized uint8 models are dequantized at load: a weight q with scale s and
// zero point z (per tensor, or per output channel along the quantized dimension)
// becomes (q − z)·s, and an int32 bias becomes q·s_in·s_w. The Interpreter then
// runs CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, AVERAGE_POOL_2D, MAX_POOL_2D,
// RESHAPE, SQUEEZE and SOFTMAX with their padding (SAME/VALID), stride, dilation
// and fused activation (RELU, RELU6, RELU_N1_TO_1); any other operator is an
// error naming it, reported when the interpreter is built. This covers the three
// MobileNet models of the shared weights folder.
package tflite
