package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/procsql/procsql/source"
)

// exeCopier stores the bytes of deleted and memfd executables, read through
// /proc/<pid>/exe, which still reaches the file after it was unlinked. Each
// distinct content is stored once, under exe/<sha256>.
type exeCopier struct {
	rec     *recorder
	live    *source.Dir
	maxSize int64

	mu      sync.Mutex
	copies  []Executable
	content map[string][]byte
}

// copy stores the executable of pid if it was deleted or is a memfd. A copy
// that fails is recorded with its reason, because a missing copy is
// evidence too.
func (c *exeCopier) copy(pid int) {
	name := strconv.Itoa(pid) + "/exe"
	target, err := c.rec.ReadLink(name)
	if err != nil {
		return
	}
	st, err := c.rec.Stat(name)
	deleted := err == nil && st.LinkCount == 0
	if !deleted && !strings.HasPrefix(target, "/memfd:") {
		return
	}
	exe := Executable{PID: pid}
	if c.live.Describe().Kind != "live" {
		exe.Error = "a copied tree holds the link text, not the executable, so there is nothing to copy"
		c.add(exe, nil)
		return
	}
	data, err := c.read(name)
	if err != nil {
		exe.Error = err.Error()
		c.add(exe, nil)
		return
	}
	exe.Truncated = int64(len(data)) > c.maxSize
	if exe.Truncated {
		data = data[:c.maxSize]
	}
	sum := sha256.Sum256(data)
	exe.SHA256 = hex.EncodeToString(sum[:])
	exe.Size = int64(len(data))
	exe.Path = "exe/" + exe.SHA256
	// The copy must be the file the capture hashed: a pid reused between
	// the two reads would otherwise store another program.
	if d, err := c.rec.Hash(name); err == nil && !exe.Truncated && d.SHA256 != exe.SHA256 {
		exe.Error = "the executable changed after it was hashed (" + d.SHA256 + "); the copy was not kept"
		exe.Path, exe.SHA256, exe.Size = "", "", 0
		c.add(exe, nil)
		return
	}
	c.add(exe, data)
}

// read reads at most maxSize+1 bytes, so truncation can be detected.
func (c *exeCopier) read(name string) ([]byte, error) {
	f, err := c.live.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, c.maxSize+1))
}

func (c *exeCopier) add(exe Executable, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.copies = append(c.copies, exe)
	if data != nil {
		if _, seen := c.content[exe.Path]; !seen {
			c.content[exe.Path] = data
		}
	}
}

// sorted returns the copies in pid order.
func (c *exeCopier) sorted() []Executable {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]Executable(nil), c.copies...)
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}
