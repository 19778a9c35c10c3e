package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTicks = 100

// TreeCPU is the CPU time, in seconds, of pid and its live descendants
// (with what their reaped children used).
func TreeCPU(pid int) float64 {
	total := procCPU(pid)
	for _, c := range children(pid) {
		total += TreeCPU(c)
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
