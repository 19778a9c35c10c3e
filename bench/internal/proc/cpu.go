package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTicks = 100

// CPU is a reading of the machine's busy CPU time and of the part of it
// spent by one process tree, in seconds.
type CPU struct {
	Busy float64 // all CPUs, every process (not interrupts)
	Tree float64 // the tree under the root pid, reaped children included
}

// ReadCPU reads the machine's busy time and the CPU time of root and its
// live descendants (with what their reaped children used).
func ReadCPU(root int) (CPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPU{}, err
	}
	busy, err := parseBusy(string(data))
	if err != nil {
		return CPU{}, err
	}
	return CPU{Busy: busy, Tree: treeCPU(root)}, nil
}

// parseBusy sums user, nice, system and steal time of /proc/stat's first
// "cpu" line. Interrupt and softirq time is left out: loopback traffic is
// processed there, outside any process, and here it is the suite's own.
func parseBusy(stat string) (float64, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	total := 0.0
	for i, v := range f[1:] {
		if i >= 3 && i <= 6 { // idle, iowait, irq, softirq
			continue
		}
		if i >= 8 { // guest times are counted in user already
			break
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total / clockTicks, nil
}

// TreeCPU is the CPU time, in seconds, of pid and its live descendants
// (with what their reaped children used).
func TreeCPU(pid int) float64 { return treeCPU(pid) }

func treeCPU(pid int) float64 {
	total := procCPU(pid)
	for _, c := range children(pid) {
		total += treeCPU(c)
	}
	return total
}

// procCPU is utime+stime+cutime+cstime of one process, in seconds.
func procCPU(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return parseProcCPU(string(data))
}

func parseProcCPU(stat string) float64 {
	// The command name may hold spaces; the fields after it start past ")".
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is the state (field 3); utime..cstime are fields 14..17.
	if len(f) < 15 {
		return 0
	}
	total := 0.0
	for _, v := range f[11:15] {
		n, _ := strconv.ParseFloat(v, 64)
		total += n
	}
	return total / clockTicks
}
