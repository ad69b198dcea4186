package runtime

import (
	"bufio"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Init is the container's init: cmd/berthd calls it when libcontainer
// re-executes the engine binary as "init" inside the new namespaces.
func Init() { initContainer() }

func onlineCPUs() int { return goruntime.NumCPU() }

// systemCPU is the host's CPU time since boot in nanoseconds, from
// /proc/stat, for docker's CPU percentage.
func systemCPU() uint64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && fields[0] == "cpu" {
			var ticks uint64
			for _, v := range fields[1:8] {
				n, _ := strconv.ParseUint(v, 10, 64)
				ticks += n
			}
			return ticks * 1e9 / 100 // USER_HZ is 100 on Linux
		}
	}
	return 0
}

func totalMemory() uint64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return si.Totalram * uint64(si.Unit)
}
