package btfsize

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// The size dataflow is sound: whatever path a program takes and whatever
// its inputs, the size it really passes lies in the interval the dataflow
// reports. Programs are generated from fuzz input, run by a small concrete
// interpreter, and compared with the abstract state at the call.

// genProgram builds a program from b: arithmetic of both widths, short
// conditional jumps both ways (loops), helper calls, and spills and fills of
// r10 slots of every width, ending in bpf_ringbuf_output.
func genProgram(b []byte) asm.Instructions {
	var insns asm.Instructions
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	reg := func() asm.Register { return asm.Register(next() % 10) }
	imm := func() int32 {
		switch next() % 4 {
		case 0:
			return int32(next() % 64)
		case 1:
			return -int32(next())
		case 2:
			return int32(binary.LittleEndian.Uint32([]byte{next(), next(), next(), next()}))
		}
		return int32(next()) << 8
	}
	slot := func() int16 { return -8 * int16(1+next()%4) }
	aluOps := []asm.ALUOp{asm.Add, asm.Sub, asm.And, asm.Or, asm.LSh, asm.RSh, asm.Mul, asm.Xor, asm.Div, asm.Mod}
	jumpOps := []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE}
	sizes := []asm.Size{asm.DWord, asm.Word, asm.Half, asm.Byte}
	for len(b) > 0 && len(insns) < 40 {
		switch next() % 10 {
		case 0:
			insns = append(insns, asm.Mov.Imm(reg(), imm()))
		case 1:
			insns = append(insns, asm.Mov.Reg(reg(), reg()))
		case 2:
			insns = append(insns, aluOps[next()%10].Imm(reg(), imm()))
		case 3:
			insns = append(insns, aluOps[next()%10].Imm32(reg(), imm()))
		case 4:
			insns = append(insns, aluOps[next()%10].Reg(reg(), reg()))
		case 5:
			op := jumpOps[next()%6]
			ins := op.Imm(reg(), imm(), "")
			if next()%2 == 0 {
				ins = op.Imm32(reg(), imm(), "")
			}
			ins.Offset = int16(next()%6) - 2 // backward jumps make loops
			insns = append(insns, ins)
		case 6:
			insns = append(insns, asm.StoreMem(asm.RFP, slot(), reg(), sizes[next()%4]))
		case 7:
			insns = append(insns, asm.LoadMem(reg(), asm.RFP, slot(), sizes[next()%4]))
		case 8:
			insns = append(insns, asm.FnKtimeGetNs.Call())
		case 9:
			insns = append(insns, asm.LoadImm(reg(), int64(binary.LittleEndian.Uint64([]byte{next(), next(), next(), next(), next(), next(), next(), next()})), asm.DWord))
		}
	}
	// Jumps forward land inside the program: the call and exit follow;
	// one back from the start leaves it, which the interpreter ends.
	return append(insns, asm.FnRingbufOutput.Call(), asm.Return())
}

// concrete runs insns with inputs from rng and returns r3 at the output call.
func concrete(insns asm.Instructions, rng *rand.Rand) (uint64, bool) {
	var regs [11]uint64
	for i := range regs {
		regs[i] = rng.Uint64() >> (rng.Uint32() % 64)
	}
	var stack [512]byte
	for i := range stack {
		stack[i] = byte(rng.Uint32())
	}
	raw := make([]int, len(insns)+1) // raw index of each instruction
	for i, ins := range insns {
		raw[i+1] = raw[i] + int(ins.Size()/asm.InstructionSize)
	}
	at := func(idx int) int {
		for i, r := range raw {
			if r == idx {
				return i
			}
		}
		return -1
	}
	for pc, steps := 0, 0; pc >= 0 && pc < len(insns) && steps < 1000; steps++ {
		ins := insns[pc]
		op := ins.OpCode
		switch cls := op.Class(); {
		case cls.IsALU():
			regs[ins.Dst] = concreteALU(op, regs[ins.Dst], srcValue(ins, regs))
		case op.JumpOp() == asm.Call:
			if ins.Constant == helperRingbufOutput {
				return regs[asm.R3], true
			}
			for r := asm.R1; r <= asm.R5; r++ {
				regs[r] = rng.Uint64()
			}
			regs[asm.R0] = rng.Uint64() >> (rng.Uint32() % 64)
		case op.JumpOp() == asm.Exit:
			return 0, false
		case cls.IsJump():
			if concreteJump(op, regs[ins.Dst], srcValue(ins, regs)) {
				pc = at(raw[pc] + 1 + int(ins.Offset))
				continue
			}
		case op.IsDWordLoad():
			regs[ins.Dst] = uint64(ins.Constant)
		case cls == asm.LdXClass:
			off, n := 512+int(ins.Offset), op.Size().Sizeof()
			var buf [8]byte
			copy(buf[:], stack[off:off+n])
			regs[ins.Dst] = binary.LittleEndian.Uint64(buf[:])
		case cls == asm.StXClass:
			off, n := 512+int(ins.Offset), op.Size().Sizeof()
			var buf [8]byte
			binary.LittleEndian.PutUint64(buf[:], regs[ins.Src])
			copy(stack[off:off+n], buf[:n])
		}
		pc++
	}
	return 0, false
}

func srcValue(ins asm.Instruction, regs [11]uint64) uint64 {
	if ins.OpCode.Source() == asm.RegSource {
		return regs[ins.Src]
	}
	return uint64(ins.Constant)
}

// concreteALU follows the kernel's interpreter (kernel/bpf/core.c), where a
// division by zero gives 0 and a modulo by zero leaves dst.
func concreteALU(op asm.OpCode, d, s uint64) uint64 {
	is32 := op.Class() == asm.ALUClass
	if is32 {
		d, s = uint64(uint32(d)), uint64(uint32(s))
	}
	var r uint64
	switch op.ALUOp() {
	case asm.Mov:
		r = s
	case asm.Add:
		r = d + s
	case asm.Sub:
		r = d - s
	case asm.And:
		r = d & s
	case asm.Or:
		r = d | s
	case asm.Xor:
		r = d ^ s
	case asm.Mul:
		r = d * s
	case asm.Div:
		if s != 0 {
			r = d / s
		}
	case asm.Mod:
		r = d
		if s != 0 {
			r = d % s
		}
	case asm.LSh:
		if is32 {
			r = d << (s & 31)
		} else {
			r = d << (s & 63)
		}
	case asm.RSh:
		if is32 {
			r = d >> (s & 31)
		} else {
			r = d >> (s & 63)
		}
	}
	if is32 {
		r = uint64(uint32(r))
	}
	return r
}

func concreteJump(op asm.OpCode, d, s uint64) bool {
	if op.Class() == asm.Jump32Class {
		d, s = uint64(uint32(d)), uint64(uint32(s))
	}
	switch op.JumpOp() {
	case asm.JEq:
		return d == s
	case asm.JNE:
		return d != s
	case asm.JGT:
		return d > s
	case asm.JGE:
		return d >= s
	case asm.JLT:
		return d < s
	case asm.JLE:
		return d <= s
	}
	return false
}

func checkSound(t *testing.T, data []byte) {
	insns := genProgram(data)
	p := &program{relocs: map[string]map[int]reloc{}}
	fn := testFunction(insns)
	states := p.flow(fn, isSend)
	var abstract *state
	for _, ins := range fn.insns {
		if isSend(ins) {
			abstract = states[ins.idx]
		}
	}
	rng := rand.New(rand.NewPCG(uint64(len(data)), 7))
	for range 64 {
		got, ok := concrete(insns, rng)
		if !ok {
			continue
		}
		if abstract == nil {
			t.Fatalf("the call is reached, yet the dataflow says it is not:\n%v", insns)
		}
		v := abstract.regs[asm.R3]
		if v.kind == vScalar && (got < v.lo || got > v.hi) {
			t.Fatalf("r3 = %d at the call, outside the dataflow's [%d, %d]:\n%v", got, v.lo, v.hi, insns)
		}
	}
}

func FuzzDataflowSound(f *testing.F) {
	f.Add([]byte{0, 3, 0, 40, 6, 3, 1, 0, 8, 7, 3, 1, 0})
	f.Add([]byte{9, 3, 48, 0, 0, 0, 1, 0, 0, 0, 3, 8, 3, 0, 2, 2, 3, 0, 200})
	f.Add([]byte{5, 0, 3, 0, 100, 1, 2, 3, 0, 5, 0, 0, 3, 2, 24, 7, 3, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) { checkSound(t, data) })
}

// TestDataflowSound runs generated programs without the fuzzer.
func TestDataflowSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		data := make([]byte, 20+rng.IntN(100))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		checkSound(t, data)
	}
}
