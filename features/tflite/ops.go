package tflite

import "fmt"

// BuiltinOp is a TFLite builtin operator code.
type BuiltinOp int32

// Builtin operator codes of the TFLite schema (those named here are the ones this
// package recognises; the interpreter implements a subset, see Supported).
const (
	OpAdd             BuiltinOp = 0
	OpAveragePool2D   BuiltinOp = 1
	OpConcatenation   BuiltinOp = 2
	OpConv2D          BuiltinOp = 3
	OpDepthwiseConv2D BuiltinOp = 4
	OpDequantize      BuiltinOp = 6
	OpFullyConnected  BuiltinOp = 9
	OpL2Normalization BuiltinOp = 11
	OpLogistic        BuiltinOp = 14
	OpMaxPool2D       BuiltinOp = 17
	OpMul             BuiltinOp = 18
	OpRelu            BuiltinOp = 19
	OpRelu6           BuiltinOp = 21
	OpReshape         BuiltinOp = 22
	OpResizeBilinear  BuiltinOp = 23
	OpSoftmax         BuiltinOp = 25
	OpTanh            BuiltinOp = 28
	OpPad             BuiltinOp = 34
	OpMean            BuiltinOp = 40
	OpSqueeze         BuiltinOp = 43
	OpQuantize        BuiltinOp = 114
	OpCustom          BuiltinOp = 32
)

var opNames = map[BuiltinOp]string{
	OpAdd: "ADD", OpAveragePool2D: "AVERAGE_POOL_2D", OpConcatenation: "CONCATENATION",
	OpConv2D: "CONV_2D", OpDepthwiseConv2D: "DEPTHWISE_CONV_2D", OpDequantize: "DEQUANTIZE",
	OpFullyConnected: "FULLY_CONNECTED", OpL2Normalization: "L2_NORMALIZATION",
	OpLogistic: "LOGISTIC", OpMaxPool2D: "MAX_POOL_2D", OpMul: "MUL", OpRelu: "RELU",
	OpRelu6: "RELU6", OpReshape: "RESHAPE", OpResizeBilinear: "RESIZE_BILINEAR",
	OpSoftmax: "SOFTMAX", OpTanh: "TANH", OpPad: "PAD", OpMean: "MEAN", OpSqueeze: "SQUEEZE",
	OpQuantize: "QUANTIZE", OpCustom: "CUSTOM",
}

func (o BuiltinOp) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("BUILTIN_OP_%d", int32(o))
}
