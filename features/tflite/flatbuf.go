package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
)

// fb is a bounds-checked reader over a FlatBuffers buffer. Accessors never
// panic: the first out-of-range access records an error in err and every later
// accessor returns zero values, so a parser can read a whole structure and check
// err once at the end.
type fb struct {
	buf []byte
	err error
}

func (f *fb) fail(format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf(format, args...)
	}
}

func (f *fb) ok(pos, n int) bool {
	if f.err != nil {
		return false
	}
	if pos < 0 || n < 0 || pos > len(f.buf)-n {
		f.fail("flatbuffer access at byte %d (+%d) outside the %d-byte file", pos, n, len(f.buf))
		return false
	}
	return true
}

func (f *fb) u8(pos int) uint8 {
	if !f.ok(pos, 1) {
		return 0
	}
	return f.buf[pos]
}

func (f *fb) u16(pos int) uint16 {
	if !f.ok(pos, 2) {
		return 0
	}
	return binary.LittleEndian.Uint16(f.buf[pos:])
}

func (f *fb) u32(pos int) uint32 {
	if !f.ok(pos, 4) {
		return 0
	}
	return binary.LittleEndian.Uint32(f.buf[pos:])
}

func (f *fb) u64(pos int) uint64 {
	if !f.ok(pos, 8) {
		return 0
	}
	return binary.LittleEndian.Uint64(f.buf[pos:])
}

// table is the position of a FlatBuffers table; 0 means "absent".
type table int

// root returns the root table of the buffer.
func (f *fb) root() table {
	return table(f.u32(0))
}

// field returns the absolute position of field slot i of table t, or 0 if the
// field is absent (then the schema default applies).
func (f *fb) field(t table, slot int) int {
	if t == 0 || f.err != nil {
		return 0
	}
	vt := int(t) - int(int32(f.u32(int(t))))
	vsize := int(f.u16(vt))
	o := 4 + 2*slot
	if o+2 > vsize {
		return 0
	}
	off := int(f.u16(vt + o))
	if off == 0 {
		return 0
	}
	return int(t) + off
}

func (f *fb) scalarU8(t table, slot int, def uint8) uint8 {
	p := f.field(t, slot)
	if p == 0 {
		return def
	}
	return f.u8(p)
}

func (f *fb) scalarI32(t table, slot int, def int32) int32 {
	p := f.field(t, slot)
	if p == 0 {
		return def
	}
	return int32(f.u32(p))
}

func (f *fb) scalarU32(t table, slot int, def uint32) uint32 {
	p := f.field(t, slot)
	if p == 0 {
		return def
	}
	return f.u32(p)
}

func (f *fb) scalarU64(t table, slot int, def uint64) uint64 {
	p := f.field(t, slot)
	if p == 0 {
		return def
	}
	return f.u64(p)
}

func (f *fb) scalarF32(t table, slot int, def float32) float32 {
	p := f.field(t, slot)
	if p == 0 {
		return def
	}
	return math.Float32frombits(f.u32(p))
}

// indirect follows the uoffset stored at p.
func (f *fb) indirect(p int) int {
	if p == 0 {
		return 0
	}
	return p + int(f.u32(p))
}

// subTable returns the table referenced by an offset field, or 0.
func (f *fb) subTable(t table, slot int) table {
	return table(f.indirect(f.field(t, slot)))
}

// vector returns the position of the first element and the length of a vector
// field with elements of elemSize bytes; (0, 0) when absent.
func (f *fb) vector(t table, slot int, elemSize int) (int, int) {
	p := f.indirect(f.field(t, slot))
	if p == 0 {
		return 0, 0
	}
	n := int(f.u32(p))
	if n < 0 || !f.ok(p+4, n*elemSize) {
		return 0, 0
	}
	return p + 4, n
}

func (f *fb) str(t table, slot int) string {
	p, n := f.vector(t, slot, 1)
	if n == 0 {
		return ""
	}
	return string(f.buf[p : p+n])
}

func (f *fb) bytesField(t table, slot int) []byte {
	p, n := f.vector(t, slot, 1)
	if n == 0 {
		return nil
	}
	return f.buf[p : p+n]
}

func (f *fb) tables(t table, slot int) []table {
	p, n := f.vector(t, slot, 4)
	out := make([]table, n)
	for i := range out {
		out[i] = table(f.indirect(p + 4*i))
	}
	return out
}

func (f *fb) ints(t table, slot int) []int {
	p, n := f.vector(t, slot, 4)
	out := make([]int, n)
	for i := range out {
		out[i] = int(int32(f.u32(p + 4*i)))
	}
	return out
}

func (f *fb) int64s(t table, slot int) []int64 {
	p, n := f.vector(t, slot, 8)
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(f.u64(p + 8*i))
	}
	return out
}

func (f *fb) float32s(t table, slot int) []float32 {
	p, n := f.vector(t, slot, 4)
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(f.u32(p + 4*i))
	}
	return out
}
