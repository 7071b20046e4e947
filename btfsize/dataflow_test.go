package btfsize

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// function builds a function from instructions, with their raw indexes.
func testFunction(insns asm.Instructions) *function {
	fn := &function{name: "f", section: "test"}
	idx := 0
	for _, ins := range insns {
		fn.insns = append(fn.insns, insn{ins, idx})
		idx += int(ins.Size() / asm.InstructionSize)
	}
	fn.end = idx
	return fn
}

// sizeAtOutput runs the dataflow and returns r3 before the bpf_ringbuf_output call.
func sizeAtOutput(t *testing.T, insns asm.Instructions) value {
	t.Helper()
	p := &program{relocs: map[string]map[int]reloc{}}
	fn := testFunction(insns)
	states := p.flow(fn, isSend)
	for _, ins := range fn.insns {
		if isSend(ins) {
			if st := states[ins.idx]; st != nil {
				return st.regs[asm.R3]
			}
			t.Fatal("call not reached")
		}
	}
	t.Fatal("no call")
	return value{}
}

var output = asm.FnRingbufOutput.Call()

func TestSizeDataflow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		insns  asm.Instructions
		lo, hi uint64
		known  bool
	}{
		{"constant", asm.Instructions{
			asm.Mov.Imm(asm.R3, 112), output, asm.Return(),
		}, 112, 112, true},
		{"32-bit move", asm.Instructions{
			asm.Mov.Imm32(asm.R3, 64), output, asm.Return(),
		}, 64, 64, true},
		{"set before a branch", asm.Instructions{
			asm.Mov.Imm(asm.R3, 40),
			asm.FnKtimeGetNs.Call(),
			asm.Mov.Imm(asm.R3, 40), // the call clobbered r3: set again
			asm.JEq.Imm(asm.R0, 0, "join"),
			asm.Mov.Imm(asm.R4, 1),
			output.WithSymbol("join"),
			asm.Return(),
		}, 40, 40, true},
		{"two constants", asm.Instructions{
			asm.FnKtimeGetNs.Call(),
			asm.Mov.Imm(asm.R3, 24),
			asm.JEq.Imm(asm.R0, 0, "join"),
			asm.Mov.Imm(asm.R3, 272),
			output.WithSymbol("join"),
			asm.Return(),
		}, 24, 272, true},
		{"a constant and r8 + 56", asm.Instructions{
			asm.FnKtimeGetNs.Call(),
			asm.Mov.Reg(asm.R8, asm.R0),
			asm.Mov.Imm(asm.R3, 24),
			asm.JEq.Imm(asm.R0, 0, "join"),
			asm.Mov.Reg(asm.R3, asm.R8),
			asm.Add.Imm(asm.R3, 56),
			output.WithSymbol("join"),
			asm.Return(),
		}, 0, 0, false},
		{"masked", asm.Instructions{
			asm.FnGetCurrentPidTgid.Call(),
			asm.Mov.Reg(asm.R3, asm.R0),
			asm.And.Imm(asm.R3, 0xff),
			output,
			asm.Return(),
		}, 0, 255, true},
		{"bounds check", asm.Instructions{
			asm.FnGetCurrentPidTgid.Call(),
			asm.Mov.Reg(asm.R3, asm.R0),
			asm.JGT.Imm(asm.R3, 100, "out"),
			output,
			asm.Return().WithSymbol("out"),
		}, 0, 100, true},
		{"spilled across a call", asm.Instructions{
			asm.Mov.Imm(asm.R3, 40),
			asm.StoreMem(asm.RFP, -8, asm.R3, asm.DWord),
			asm.FnKtimeGetNs.Call(),
			asm.LoadMem(asm.R3, asm.RFP, -8, asm.DWord),
			output,
			asm.Return(),
		}, 40, 40, true},
		{"spill overwritten through a stack pointer", asm.Instructions{
			asm.Mov.Imm(asm.R3, 40),
			asm.StoreMem(asm.RFP, -8, asm.R3, asm.DWord),
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, -16),
			asm.FnProbeReadKernel.Call(), // may write r10-16 .. r10
			asm.LoadMem(asm.R3, asm.RFP, -8, asm.DWord),
			output,
			asm.Return(),
		}, 0, 0, false},
		{"narrow store into a spill", asm.Instructions{
			asm.Mov.Imm(asm.R3, 40),
			asm.StoreMem(asm.RFP, -8, asm.R3, asm.DWord),
			asm.Mov.Imm(asm.R2, 7),
			asm.StoreMem(asm.RFP, -6, asm.R2, asm.Half),
			asm.LoadMem(asm.R3, asm.RFP, -8, asm.DWord),
			output,
			asm.Return(),
		}, 0, 0, false},
		{"a spill overwritten at a variable offset", asm.Instructions{
			asm.Mov.Imm(asm.R3, 16),
			asm.StoreMem(asm.RFP, -16, asm.R3, asm.DWord), // sizes[0] = 16
			asm.FnGetCurrentPidTgid.Call(),
			asm.And.Imm(asm.R0, 8),
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, -16),
			asm.Add.Reg(asm.R1, asm.R0), // &sizes[pid & 1]
			asm.Mov.Imm(asm.R2, 48),
			asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord),
			asm.LoadMem(asm.R3, asm.RFP, -16, asm.DWord),
			output,
			asm.Return(),
		}, 0, 0, false},
		{"a spill written through an escaped stack address", asm.Instructions{
			asm.Mov.Imm(asm.R3, 16),
			asm.StoreMem(asm.RFP, -24, asm.R3, asm.DWord), // len = 16
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -24),
			asm.StoreMem(asm.RFP, -8, asm.R2, asm.DWord), // h.p = &len
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, -8),
			asm.FnProbeReadKernel.Call(), // grow(&h) writes *h.p
			asm.LoadMem(asm.R3, asm.RFP, -24, asm.DWord),
			output,
			asm.Return(),
		}, 0, 0, false},
		{"32-bit division reads the low half", asm.Instructions{
			asm.LoadImm(asm.R3, 0x100000030, asm.DWord),
			asm.Div.Imm32(asm.R3, 2),
			output,
			asm.Return(),
		}, 24, 24, true},
		{"32-bit shift reads the low half", asm.Instructions{
			asm.LoadImm(asm.R3, 0x100000040, asm.DWord),
			asm.RSh.Imm32(asm.R3, 1),
			output,
			asm.Return(),
		}, 32, 32, true},
		{"loop", asm.Instructions{
			asm.Mov.Imm(asm.R3, 0),
			asm.Add.Imm(asm.R3, 8).WithSymbol("loop"),
			asm.JLT.Imm(asm.R3, 64, "loop"),
			output,
			asm.Return(),
		}, 64, 71, true}, // r3 leaves the loop in [64, 63+8]
		{"unbounded loop", asm.Instructions{
			asm.Mov.Imm(asm.R3, 0),
			asm.Add.Imm(asm.R3, 8).WithSymbol("loop"),
			asm.FnKtimeGetNs.Call(),
			asm.JNE.Imm(asm.R0, 0, "loop"),
			output,
			asm.Return(),
		}, 0, 0, false},
		{"shifted zero extension", asm.Instructions{
			asm.FnGetCurrentPidTgid.Call(),
			asm.Mov.Reg(asm.R3, asm.R0),
			asm.LSh.Imm(asm.R3, 32),
			asm.RSh.Imm(asm.R3, 32),
			output,
			asm.Return(),
		}, 0, math.MaxUint32, true},
		{"byte load", asm.Instructions{
			asm.LoadMem(asm.R3, asm.R1, 0, asm.Byte),
			output,
			asm.Return(),
		}, 0, 255, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insns, err := resolveLabels(tc.insns)
			if err != nil {
				t.Fatal(err)
			}
			v := sizeAtOutput(t, insns)
			if !tc.known {
				if v.kind == vScalar && v.lo == v.hi {
					t.Errorf("size is the constant %d, want not a constant", v.lo)
				}
				return
			}
			if v.kind != vScalar || v.lo != tc.lo || v.hi != tc.hi {
				t.Errorf("size = %+v, want [%d, %d]", v, tc.lo, tc.hi)
			}
		})
	}
}

// resolveLabels turns symbolic jump targets into offsets.
func resolveLabels(insns asm.Instructions) (asm.Instructions, error) {
	offsets, err := insns.SymbolOffsets()
	if err != nil {
		return nil, err
	}
	raw := make([]int, len(insns)+1)
	for i, ins := range insns {
		raw[i+1] = raw[i] + int(ins.Size()/asm.InstructionSize)
	}
	out := make(asm.Instructions, len(insns))
	for i, ins := range insns {
		if ref := ins.Reference(); ref != "" && ins.OpCode.Class().IsJump() && !ins.IsBuiltinCall() {
			ins.Offset = int16(raw[offsets[ref]] - raw[i] - 1)
		}
		out[i] = ins
	}
	return out, nil
}

// Arbitrary instruction streams must not hang or panic the dataflow.
func FuzzDataflow(f *testing.F) {
	f.Add([]byte{0xb7, 0x03, 0, 0, 0x70, 0, 0, 0, 0x85, 0, 0, 0, 0x82, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xb7, 0x03, 0, 0, 0, 0, 0, 0, 0x07, 0x03, 0, 0, 8, 0, 0, 0, 0xa5, 0x03, 0xfe, 0xff, 0x40, 0, 0, 0, 0x85, 0, 0, 0, 0x82, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		raw = raw[:len(raw)/8*8]
		insns, err := decode(raw, binary.LittleEndian)
		if err != nil {
			return
		}
		fn := &function{name: "f", section: "fuzz", insns: insns}
		if n := len(insns); n > 0 {
			fn.end = insns[n-1].idx + int(insns[n-1].Size()/asm.InstructionSize)
		}
		p := &program{relocs: map[string]map[int]reloc{}}
		p.flow(fn, isSend)
	})
}
