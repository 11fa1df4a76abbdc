package hardening

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// resizeRole is the childRoleEnv value of a child that keeps resizing one
// anonymous mapping in place.
const resizeRole = "resize"

// Sizes of the mapping that a resize child grows and shrinks, in pages.
const (
	resizeSmallPages = 1
	resizeLargePages = 32
)

// runResizeChild maps one page, prints the mapping's start address in hex,
// and then grows the mapping to resizeLargePages in place with mremap,
// writes to every page so each one is resident, and shrinks it back, until
// it is killed. The start address never changes.
func runResizeChild() int {
	page := os.Getpagesize()
	// Map the largest size and unmap all but the first page, so the pages
	// after it stay free for the mapping to grow into. The slice keeps
	// covering the largest size, and the child writes to it only while the
	// mapping has that size.
	mapping, err := syscall.Mmap(-1, 0, resizeLargePages*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		fmt.Fprintln(os.Stderr, "resize child: mmap:", err)
		return 3
	}
	start := uintptr(unsafe.Pointer(&mapping[0]))
	small, large := uintptr(resizeSmallPages*page), uintptr(resizeLargePages*page)
	if _, _, errno := syscall.Syscall(syscall.SYS_MUNMAP, start+small, large-small, 0); errno != 0 {
		fmt.Fprintln(os.Stderr, "resize child: munmap:", errno)
		return 3
	}
	fmt.Printf("%x\n", start)

	for {
		if _, _, errno := syscall.Syscall6(syscall.SYS_MREMAP, start, small, large, 0, 0, 0); errno != 0 {
			fmt.Fprintln(os.Stderr, "resize child: grow:", errno)
			return 3
		}
		for offset := 0; offset < len(mapping); offset += page {
			mapping[offset] = 1
		}
		if _, _, errno := syscall.Syscall6(syscall.SYS_MREMAP, start, large, small, 0, 0, 0); errno != 0 {
			fmt.Fprintln(os.Stderr, "resize child: shrink:", errno)
			return 3
		}
	}
}

// TestMapsRSSWithinResizedMapping reads the maps of a process that keeps
// growing and shrinking one mapping at a fixed start address. maps and
// smaps are two reads, so the mapping may have another size in each. A
// row must then have the smaps figures of its own size or NULL, never
// rss_bytes above size_bytes.
func TestMapsRSSWithinResizedMapping(t *testing.T) {
	if !enterNamespaces(t) {
		return
	}
	binary := procsqlBinary(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(self)
	child.Env = []string{childRoleEnv + "=" + resizeRole}
	child.Stderr = os.Stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		child.Process.Kill()
		child.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("resize child printed %q: %v", line, err)
	}
	start := strings.ToUpper(strings.TrimSpace(line))

	addr, err := strconv.ParseUint(start, 16, 64)
	if err != nil {
		t.Fatalf("resize child printed %q, want a hex address: %v", line, err)
	}
	// The kernel may merge the mapping with an adjacent anonymous one of
	// the same permissions, so the row is found by the range that
	// contains the address, not by its start.
	query := fmt.Sprintf("SELECT size_bytes, rss_bytes FROM maps WHERE pid = %d AND start <= %d AND `end` > %d", child.Process.Pid, addr, addr)
	const runs = 40
	for range runs {
		run := mustRunProcsql(t, binary, runOptions{}, "--format", "jsonl", "query", query)
		if run.status != 0 {
			t.Fatalf("query exited with status %d, want 0; stderr:\n%s", run.status, run.stderr)
		}
		rows, err := decodeRows(run.stdout)
		if err != nil {
			t.Fatal(err)
		}
		// The kernel may print a mapping twice when it changes while maps
		// is read in several read calls, so every row is checked.
		if len(rows) == 0 {
			t.Fatalf("maps has no row that contains the resized mapping's start %s", start)
		}
		for _, row := range rows {
			v := rowView{r: row, where: "resized mapping", report: &report{}}
			size, _ := v.uint("size_bytes")
			if rss, ok := v.uint("rss_bytes"); ok && rss > size {
				t.Errorf("rss_bytes %d exceeds size_bytes %d of the same row", rss, size)
			}
			if v.report.count() > 0 {
				t.Error(v.report)
			}
		}
	}
}
