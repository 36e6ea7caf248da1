package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// trimFilePages drops the shim's page-table entries for its own read-only
// executable mappings (text and rodata). Start-up (flag parsing, forking
// runc, reading its log) touches code that the steady state never runs
// again, and the kernel maps whole 64 KiB neighbourhoods around each fault, so
// most of the binary ends up counted in RSS. The pages stay in the page cache
// (shared by all shims); whatever the shim still executes faults back in.
// This is safe only for mappings that are never written: private read-only
// file pages are re-read from the file, never lost.
func trimFilePages() {
	st, err := os.Stat("/proc/self/exe")
	if err != nil {
		return
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	ino := strconv.FormatUint(sys.Ino, 10)
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(maps), "\n") {
		// start-end perms offset dev inode path
		f := strings.Fields(line)
		if len(f) < 6 || f[4] != ino || (f[1] != "r-xp" && f[1] != "r--p") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED)
	}
}
