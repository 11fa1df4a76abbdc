package snapshot

import (
	"archive/tar"
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"sync"
)

// segment is a decompressed and checked segment: its records sorted by path
// and then operation, as the capture writes them, and the bytes of each
// successful read at the same index.
type segment struct {
	records []Record
	content [][]byte
	size    int64 // bytes held, for the cache
	shares  bool  // content points into the decompressed buffer
}

// emptySegment stands for a segment the manifest does not list: a part of a
// process that no table read.
var emptySegment = &segment{}

// find returns the index of the record of op on path.
func (s *segment) find(op, path string) (int, bool) {
	i := sort.Search(len(s.records), func(i int) bool {
		r := &s.records[i]
		return r.Path > path || r.Path == path && r.Op >= op
	})
	return i, i < len(s.records) && s.records[i].Path == path && s.records[i].Op == op
}

// recordsInOrder reports whether the record at i sorts after the one
// before it, which also rules out a record of the same read twice.
func recordsInOrder(list []Record, i int) bool {
	a, b := &list[i-1], &list[i]
	return a.Path < b.Path || a.Path == b.Path && a.Op < b.Op
}

// buffers holds the compressed frames and tar streams of segments being
// loaded; parseSegment copies what it keeps out of them.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

func borrow(n int64) *[]byte {
	b := buffers.Get().(*[]byte)
	if int64(cap(*b)) < n {
		*b = make([]byte, n)
	}
	*b = (*b)[:n]
	return b
}

// loadSegment reads, decompresses and checks the segment seg. The frame's
// digest is checked again, because the file may have changed since Open;
// it covers every byte of the segment. verify also checks each file
// against the digest its record holds, which only a file written with
// inconsistent records can fail.
func (s *Snapshot) loadSegment(seg Segment, verify bool) (*segment, error) {
	if seg.Size > s.limits.maxSegmentSize() {
		return nil, fmt.Errorf("%w: segment %q declares %d bytes, above the limit of %d for one segment", ErrCorrupt, seg.Name, seg.Size, s.limits.maxSegmentSize())
	}
	frame := borrow(seg.Length)
	defer buffers.Put(frame)
	if err := readFrame(s.file, seg, *frame); err != nil {
		return nil, err
	}
	// The capacity limit stops a frame that expands beyond its declared
	// size from allocating more.
	out := borrow(seg.Size)
	data, err := s.decoder.DecodeAll(*frame, (*out)[:0])
	if err != nil {
		buffers.Put(out)
		return nil, fmt.Errorf("%w: segment %q does not decompress to its declared %d bytes: %v", ErrCorrupt, seg.Name, seg.Size, err)
	}
	if int64(len(data)) != seg.Size {
		buffers.Put(out)
		return nil, fmt.Errorf("%w: segment %q decompresses to %d bytes, but the manifest lists %d", ErrCorrupt, seg.Name, len(data), seg.Size)
	}
	loaded, err := parseSegment(seg, data, s.limits, s.exes, verify)
	if err != nil || !loaded.shares {
		buffers.Put(out)
	}
	return loaded, err
}

// recordsEntry returns the body of the first tar entry of data when it is a
// plain ustar header of a regular file called name, as the capture writes
// it. archive/tar took a tenth of the time of a query that loads every
// segment to read that one header; any other header goes to archive/tar.
func recordsEntry(data []byte, name string) ([]byte, bool) {
	const block = 512
	if len(data) < block || data[156] != '0' || string(data[257:263]) != "ustar\x00" {
		return nil, false
	}
	field := data[0:100]
	if end := bytes.IndexByte(field, 0); end >= 0 {
		field = field[:end]
	}
	if string(field) != name || data[345] != 0 {
		return nil, false
	}
	// The size is octal, padded with zeros and ended by NUL or space.
	var size int64
	digits := 0
	for _, c := range data[124:136] {
		if c == 0 || c == ' ' {
			break
		}
		if c < '0' || c > '7' || size > (1<<40) {
			return nil, false
		}
		size = size*8 + int64(c-'0')
		digits++
	}
	if digits == 0 || size > int64(len(data)-block) || !tarChecksumOK(data[:block]) {
		return nil, false
	}
	return data[block : block+size], true
}

// tarChecksumOK checks a tar header's checksum: the octal sum of its bytes
// with the checksum field counted as spaces.
func tarChecksumOK(hdr []byte) bool {
	want, err := parseTarOctal(hdr[148:156])
	return err == nil && tarBlockSum(hdr[:tarBlockSize]) == want
}

// parseSegment reads a segment's records, the first tar entry, and takes
// each read's bytes at the offset its record gives, once checkRecordOffsets
// has checked that the offset starts the data of the only tar entry of the
// record's path and size. With verify it also reads every entry with
// archive/tar and checks that the entries are regular files with clean
// names inside the segment, each recorded once at its offset and with its
// SHA-256. exes lists the executable copies of the manifest by archive
// path.
func parseSegment(seg Segment, data []byte, limits Limits, exes map[string]Executable, verify bool) (*segment, error) {
	raw, ok := recordsEntry(data, recordsName(seg.Name))
	if !ok || int64(len(raw)) > limits.MaxEntrySize {
		var err error
		if raw, err = readRecordsEntry(seg, data, limits); err != nil {
			return nil, err
		}
	}
	return segmentFromRecords(seg, data, raw, limits, exes, verify)
}

// readRecordsEntry reads the first tar entry of data with archive/tar and
// checks that it is the segment's records.
func readRecordsEntry(seg Segment, data []byte, limits Limits) ([]byte, error) {
	tr := tar.NewReader(bytes.NewReader(data))
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: segment %q does not start with a tar entry: %v", ErrCorrupt, seg.Name, err)
	}
	if err := checkEntryName(hdr); err != nil {
		return nil, err
	}
	if hdr.Name != recordsName(seg.Name) {
		return nil, fmt.Errorf("%w: segment %q starts with %q instead of its records %q", ErrCorrupt, seg.Name, hdr.Name, recordsName(seg.Name))
	}
	if hdr.Size < 0 || hdr.Size > int64(len(data)) || hdr.Size > limits.MaxEntrySize {
		return nil, fmt.Errorf("%w: entry %q declares %d bytes, more than the limit of %d or the segment's size", ErrCorrupt, hdr.Name, hdr.Size, limits.MaxEntrySize)
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("%w: entry %q is truncated or damaged: %v", ErrCorrupt, hdr.Name, err)
	}
	return raw, nil
}

// segmentFromRecords decodes raw, the records of the segment data, and
// checks them against the segment.
func segmentFromRecords(seg Segment, data, raw []byte, limits Limits, exes map[string]Executable, verify bool) (*segment, error) {
	list, err := decodeRecords(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not valid JSON: %v", ErrCorrupt, recordsName(seg.Name), err)
	}

	for i := range list {
		rec := &list[i]
		if segmentOf(rec.Path) != seg.Name {
			return nil, fmt.Errorf("%w: the record of %s on %q does not belong in segment %q", ErrCorrupt, rec.Op, rec.Path, seg.Name)
		}
	}
	// The capture writes records in order; a file that does not is sorted
	// here, so only a read recorded twice is an error.
	sorted := true
	for i := 1; i < len(list) && sorted; i++ {
		sorted = recordsInOrder(list, i)
	}
	if !sorted {
		sort.SliceStable(list, func(i, j int) bool {
			return list[i].Path < list[j].Path || list[i].Path == list[j].Path && list[i].Op < list[j].Op
		})
		for i := 1; i < len(list); i++ {
			if !recordsInOrder(list, i) {
				return nil, fmt.Errorf("%w: the snapshot records %s of %q twice", ErrCorrupt, list[i].Op, list[i].Path)
			}
		}
	}
	if verify {
		if err := checkEntries(seg, data, limits, list, exes); err != nil {
			return nil, err
		}
	}
	// Entry bytes are copied into one block, so the segment keeps its
	// files once and neither the tar headers nor the records text.
	total := int64(0)
	for i := range list {
		rec := &list[i]
		if !isFileRead(rec) {
			continue
		}
		if rec.Size < 0 || rec.Offset < 0 || rec.Offset > int64(len(data)) || rec.Size > int64(len(data))-rec.Offset {
			return nil, fmt.Errorf("%w: the record of %q places %d bytes at offset %d of segment %q, which has %d", ErrCorrupt, rec.Path, rec.Size, rec.Offset, seg.Name, len(data))
		}
		total += rec.Size
	}
	if err := checkRecordOffsets(seg, data, limits, list, exes); err != nil {
		return nil, err
	}
	out := &segment{records: list, content: make([][]byte, len(list))}
	// A segment of mostly file bytes, such as maps or smaps, keeps the
	// decompressed buffer itself. A segment of many small files copies
	// them out, so their tar headers are not kept.
	if 2*total >= int64(len(data)) {
		out.shares = true
		out.size = int64(len(data))
		for i := range list {
			if rec := &list[i]; isFileRead(rec) {
				out.content[i] = data[rec.Offset : rec.Offset+rec.Size : rec.Offset+rec.Size]
			}
		}
		return out, nil
	}
	block := make([]byte, 0, total)
	for i := range list {
		rec := &list[i]
		if !isFileRead(rec) {
			continue
		}
		start := len(block)
		block = append(block, data[rec.Offset:rec.Offset+rec.Size]...)
		out.content[i] = block[start:len(block):len(block)]
	}
	out.size = int64(len(block)) + int64(len(raw))
	return out, nil
}

// checkRecordOffsets walks the tar headers of data and checks each
// successful read of list, sorted by path. Its path must name one regular
// entry, of the record's size, whose data starts at the record's offset.
// Every entry after the records must be such a read or an executable copy
// of exes. A query then shows the bytes that tar extracts for a path,
// however the records were made, and no entry that queries do not see
// can replace a file of another segment when tar extracts the archive.
// The walk copies no data, and entries in path order, as the capture
// writes them, need neither a map nor a search.
func checkRecordOffsets(seg Segment, data []byte, limits Limits, list []Record, exes map[string]Executable) error {
	// Most segments have a few entries, whose members fit on the stack.
	// Every entry takes at least one 512-byte block.
	var buf [32]tarMember
	members := buf[:0]
	if n := min(seg.Entries, len(data)/tarBlockSize); n > len(buf) {
		members = make([]tarMember, 0, n)
	}
	members, end, err := walkTar(data, limits.MaxEntrySize, members)
	if err != nil {
		return fmt.Errorf("%w: segment %q: %w", ErrCorrupt, seg.Name, err)
	}
	if len(members) == 0 {
		return fmt.Errorf("%w: segment %q has no tar entries", ErrCorrupt, seg.Name)
	}
	if end != int64(len(data)) {
		return fmt.Errorf("%w: segment %q has an end-of-archive marker at byte %d of %d, where tar stops reading; only the manifest frame may end the archive", ErrCorrupt, seg.Name, end, len(data))
	}

	next := 0      // the member after the last one matched
	matched := 0   // members matched, one per distinct path
	previous := "" // path of the last file read
	for i := range list {
		rec := &list[i]
		if !isFileRead(rec) {
			continue
		}
		j := next
		if j >= len(members) || members[j].offset != rec.Offset {
			j = sort.Search(len(members), func(k int) bool { return members[k].offset >= rec.Offset })
		}
		if j == len(members) || members[j].offset != rec.Offset || string(members[j].name) != rec.Path {
			return recordOffsetError(seg, members, rec)
		}
		if members[j].size != rec.Size {
			return fmt.Errorf("%w: the record of %q lists %d bytes, but its tar entry at offset %d of segment %q has %d", ErrCorrupt, rec.Path, rec.Size, rec.Offset, seg.Name, members[j].size)
		}
		next = j + 1
		if rec.Path != previous {
			matched++
			previous = rec.Path
		}
	}

	// members[0] is the records entry: walkTar accepted the stream, so
	// it found the first entry that parseSegment read. Each path matched
	// is the name of a member, so when as many paths matched as there are
	// other members, no two of those share a name. Executable copies are
	// not matched, so their names are compared.
	executables := countExecutables(members[1:], exes)
	if matched+executables != len(members)-1 {
		return unlistedEntryError(seg, members, list, exes)
	}
	if executables > 0 {
		if name, ok := duplicateMember(members); ok {
			return fmt.Errorf("%w: entry %q appears twice in segment %q", ErrCorrupt, name, seg.Name)
		}
	}
	return nil
}

// countExecutables returns how many members are executable copies.
func countExecutables(members []tarMember, exes map[string]Executable) int {
	if len(exes) == 0 {
		return 0
	}
	n := 0
	for _, m := range members {
		if _, ok := exes[string(m.name)]; ok {
			n++
		}
	}
	return n
}

// unlistedEntryError describes why the entries after the records, members
// without the first, are not one for each file read of list and executable
// copy: an entry appears twice, or one is neither.
func unlistedEntryError(seg Segment, members []tarMember, list []Record, exes map[string]Executable) error {
	if name, ok := duplicateMember(members); ok {
		return fmt.Errorf("%w: entry %q appears twice in segment %q", ErrCorrupt, name, seg.Name)
	}
	members = members[1:]
	listed := make(map[string]bool, len(list))
	for i := range list {
		if isFileRead(&list[i]) {
			listed[list[i].Path] = true
		}
	}
	for _, m := range members {
		if _, ok := exes[string(m.name)]; !ok && !listed[string(m.name)] {
			return fmt.Errorf("%w: entry %q is not listed in the records of segment %q", ErrCorrupt, m.name, seg.Name)
		}
	}
	return fmt.Errorf("%w: the records and executable copies of segment %q do not account for its %d entries after the records", ErrCorrupt, seg.Name, len(members))
}

// recordOffsetError describes a read record whose offset is not the start
// of the data of the tar entry named by its path.
func recordOffsetError(seg Segment, members []tarMember, rec *Record) error {
	for _, m := range members {
		if string(m.name) == rec.Path {
			return fmt.Errorf("%w: the record of %q gives offset %d, but its tar entry starts at %d in segment %q", ErrCorrupt, rec.Path, rec.Offset, m.offset, seg.Name)
		}
	}
	return fmt.Errorf("%w: the record of %q gives offset %d, but segment %q has no regular tar entry of that name", ErrCorrupt, rec.Path, rec.Offset, seg.Name)
}

// duplicateMember returns a name that two members share. tar extracts the
// last entry of a name over the earlier ones, so a record of the first
// would show bytes that tar does not. The capture writes the records
// entry and then the files in path order, so that order is checked first
// and a map is built only for a stream out of order.
func duplicateMember(members []tarMember) (string, bool) {
	if len(members) < 2 {
		return "", false
	}
	files := members[1:]
	ordered := true
	for i := 1; i < len(files) && ordered; i++ {
		ordered = bytes.Compare(files[i-1].name, files[i].name) < 0
	}
	if ordered {
		first := members[0].name
		k := sort.Search(len(files), func(k int) bool { return bytes.Compare(files[k].name, first) >= 0 })
		if k < len(files) && bytes.Equal(files[k].name, first) {
			return string(first), true
		}
		return "", false
	}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if seen[string(m.name)] {
			return string(m.name), true
		}
		seen[string(m.name)] = true
	}
	return "", false
}

// isFileRead reports whether rec is a successful read whose bytes the
// segment holds.
func isFileRead(rec *Record) bool {
	return (rec.Op == OpRead || rec.Op == OpHostRead) && !rec.failed()
}

// checkEntries walks the tar headers of a segment and checks them against
// its records.
func checkEntries(seg Segment, data []byte, limits Limits, list []Record, exes map[string]Executable) error {
	reads := make(map[string]*Record, len(list))
	for i := range list {
		if isFileRead(&list[i]) {
			reads[list[i].Path] = &list[i]
		}
	}

	seen := map[string]bool{}
	var files []tarFile
	r := bytes.NewReader(data)
	tr := tar.NewReader(r)
	entries := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: segment %q is damaged after %d entries: %v", ErrCorrupt, seg.Name, entries, err)
		}
		if entries++; entries > seg.Entries {
			return fmt.Errorf("%w: segment %q contains more than its declared %d entries", ErrCorrupt, seg.Name, seg.Entries)
		}
		if err := checkEntryName(hdr); err != nil {
			return err
		}
		if hdr.Size < 0 || hdr.Size > limits.MaxEntrySize {
			return fmt.Errorf("%w: entry %q declares %d bytes, above the limit of %d", ErrCorrupt, hdr.Name, hdr.Size, limits.MaxEntrySize)
		}
		if seen[hdr.Name] {
			return fmt.Errorf("%w: entry %q appears twice", ErrCorrupt, hdr.Name)
		}
		seen[hdr.Name] = true
		if entries == 1 {
			continue // the records, which parseSegment read
		}
		if segmentOf(hdr.Name) != seg.Name {
			return fmt.Errorf("%w: entry %q does not belong in segment %q", ErrCorrupt, hdr.Name, seg.Name)
		}
		// After Next, the reader is at the entry's first byte.
		offset := int64(len(data)) - int64(r.Len())
		body, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("%w: entry %q is truncated or damaged: %v", ErrCorrupt, hdr.Name, err)
		}
		files = append(files, tarFile{hdr.Name, offset, body})
	}
	if entries != seg.Entries {
		return fmt.Errorf("%w: segment %q contains %d entries, but the manifest lists %d", ErrCorrupt, seg.Name, entries, seg.Entries)
	}
	// Which entries exist is checked before where they are, so a missing
	// entry is reported as missing rather than as the others' moved offsets.
	for name := range reads {
		if !seen[name] {
			return fmt.Errorf("%w: entry %q listed in the snapshot is missing from the archive", ErrCorrupt, name)
		}
	}
	for _, f := range files {
		if exe, ok := exes[f.name]; ok {
			if err := checkDigest(f.name, f.body, exe.Size, exe.SHA256); err != nil {
				return err
			}
			continue
		}
		rec, ok := reads[f.name]
		if !ok {
			return fmt.Errorf("%w: entry %q is not listed in the records of segment %q", ErrCorrupt, f.name, seg.Name)
		}
		if err := checkDigest(f.name, f.body, rec.Size, rec.SHA256); err != nil {
			return err
		}
		if rec.Offset != f.offset {
			return fmt.Errorf("%w: the record of %q gives offset %d, but the entry starts at %d", ErrCorrupt, f.name, rec.Offset, f.offset)
		}
	}
	return nil
}

// tarFile is one entry of a segment's tar stream.
type tarFile struct {
	name   string
	offset int64 // of its first byte in the stream
	body   []byte
}

// checkDigest checks that the bytes of entry name have size bytes and the
// SHA-256 want.
func checkDigest(name string, data []byte, size int64, want string) error {
	if int64(len(data)) != size {
		return fmt.Errorf("%w: entry %q has %d bytes, but the snapshot lists %d", ErrCorrupt, name, len(data), size)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != want {
		return fmt.Errorf("%w: entry %q does not match its SHA-256 in the snapshot", ErrCorrupt, name)
	}
	return nil
}

// segmentCache keeps recently used segments up to a byte budget, least
// recently used first out, and loads each segment once however many
// goroutines ask for it at the same time.
type segmentCache struct {
	max int64

	mu    sync.Mutex
	used  int64
	items map[string]*cacheItem
	order list.List // of *cacheItem, most recently used first
}

type cacheItem struct {
	name string
	once sync.Once
	seg  *segment
	err  error
	elem *list.Element
	size int64 // counted in used; 0 until loaded
}

func newSegmentCache(max int64) *segmentCache {
	return &segmentCache{max: max, items: map[string]*cacheItem{}}
}

// get returns the segment called name, calling load when it is not cached.
// A failed load is cached too: a damaged segment stays damaged.
func (c *segmentCache) get(name string, load func() (*segment, error)) (*segment, error) {
	c.mu.Lock()
	it, ok := c.items[name]
	if ok {
		if it.elem != nil {
			c.order.MoveToFront(it.elem)
		}
	} else {
		it = &cacheItem{name: name}
		c.items[name] = it
		it.elem = c.order.PushFront(it)
	}
	c.mu.Unlock()

	it.once.Do(func() {
		it.seg, it.err = load()
		c.mu.Lock()
		defer c.mu.Unlock()
		if it.seg != nil && it.elem != nil {
			it.size = it.seg.size
			c.used += it.size
		}
		c.evict(it)
	})
	return it.seg, it.err
}

// evict drops least recently used segments until the cache fits its budget,
// keeping keep, which was just loaded. Callers hold c.mu.
func (c *segmentCache) evict(keep *cacheItem) {
	for c.used > c.max {
		back := c.order.Back()
		if back == nil {
			return
		}
		old := back.Value.(*cacheItem)
		if old == keep {
			return
		}
		c.order.Remove(back)
		old.elem = nil
		c.used -= old.size
		delete(c.items, old.name)
	}
}
