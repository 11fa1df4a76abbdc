package snapshot

import (
	"crypto/sha256"
	"fmt"

	"github.com/klauspost/compress/s2"
)

// entry is one archive file as Open keeps it: its size and SHA-256, taken
// while it was read, and its bytes compressed with S2. Text from /proc
// compresses five to ten times, and a snapshot of 10,000 processes holds
// about 560 MB of it, which would not fit the memory a responder's laptop
// can spare for one query.
type entry struct {
	size   int64
	sum    [sha256.Size]byte
	packed []byte
}

func newEntry(data []byte) entry {
	return entry{size: int64(len(data)), sum: sha256.Sum256(data), packed: s2.Encode(nil, data)}
}

// data returns the entry's bytes.
func (e entry) data(name string) ([]byte, error) {
	if e.size == 0 {
		return []byte{}, nil
	}
	data, err := s2.Decode(make([]byte, e.size), e.packed)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %q is damaged in memory: %v", ErrCorrupt, name, err)
	}
	if int64(len(data)) != e.size {
		return nil, fmt.Errorf("%w: entry %q is damaged in memory: %d bytes, want %d", ErrCorrupt, name, len(data), e.size)
	}
	return data, nil
}
