package snapshot

import (
	"encoding/json"
	"strconv"
)

// decodeRecords parses a segment's records file. encoding/json spent half
// the time of a query on a large snapshot here, so the common case, records
// as json.Marshal writes them with ASCII strings without escapes, has a
// parser of its own. Anything else (escapes, non-ASCII text, null, an
// unknown field) goes to encoding/json, which defines the result: the fast
// path returns exactly what json.Unmarshal would, or gives up.
func decodeRecords(data []byte) ([]Record, error) {
	if recs, ok := fastRecords(data); ok {
		return recs, nil
	}
	var recs []Record
	err := json.Unmarshal(data, &recs)
	return recs, err
}

// recordParser reads records from data at pos. Its methods report false
// when the input leaves the subset the fast path handles.
type recordParser struct {
	data []byte
	pos  int
}

func fastRecords(data []byte) ([]Record, bool) {
	return parseArray(data, (*recordParser).record)
}

// decodeSegments parses the segment table of a manifest, which has one
// object per segment: 50,000 of them for 10,000 processes, which
// encoding/json took a tenth of a second to read. It takes the same fast
// path as decodeRecords.
func decodeSegments(data []byte) ([]Segment, error) {
	if segs, ok := parseArray(data, (*recordParser).segment); ok {
		return segs, nil
	}
	var segs []Segment
	err := json.Unmarshal(data, &segs)
	return segs, err
}

// parseArray reads a JSON array of objects, each with elem.
func parseArray[T any](data []byte, elem func(*recordParser, *T) bool) ([]T, bool) {
	p := &recordParser{data: data}
	if !p.consume('[') {
		return nil, false
	}
	out := []T{}
	if p.consume(']') {
		return out, p.end()
	}
	for {
		var v T
		if !elem(p, &v) {
			return nil, false
		}
		out = append(out, v)
		if p.consume(']') {
			return out, p.end()
		}
		if !p.consume(',') {
			return nil, false
		}
	}
}

// object reads one JSON object, calling field for each key with the parser
// at the value. Field names match exactly, where encoding/json would also
// match them without regard to case, so field returns false for any other
// spelling and the fast path ends.
func (p *recordParser) object(field func(key []byte) bool) bool {
	if !p.consume('{') {
		return false
	}
	if p.consume('}') {
		return true
	}
	for {
		key, ok := p.strBytes()
		if !ok || !p.consume(':') || !field(key) {
			return false
		}
		if p.consume('}') {
			return true
		}
		if !p.consume(',') {
			return false
		}
	}
}

func (p *recordParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether c was there.
func (p *recordParser) consume(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *recordParser) end() bool {
	p.skipSpace()
	return p.pos == len(p.data)
}

// str reads a string of printable ASCII without escapes.
func (p *recordParser) str() (string, bool) {
	b, ok := p.strBytes()
	return string(b), ok
}

// strBytes reads a string like str and returns its bytes in data.
func (p *recordParser) strBytes() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			b := p.data[start:p.pos]
			p.pos++
			return b, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		p.pos++
	}
	return nil, false
}

// op reads an operation name. The known ones share one string each, which
// saves an allocation per record.
func (p *recordParser) op() (string, bool) {
	b, ok := p.strBytes()
	if !ok {
		return "", false
	}
	switch string(b) {
	case OpRead:
		return OpRead, true
	case OpReadLink:
		return OpReadLink, true
	case OpReadDir:
		return OpReadDir, true
	case OpStat:
		return OpStat, true
	case OpHash:
		return OpHash, true
	case OpHostRead:
		return OpHostRead, true
	case OpHostReadDir:
		return OpHostReadDir, true
	case OpProbe:
		return OpProbe, true
	}
	return string(b), true
}

// int reads an integer that fits in 64 bits, as encoding/json accepts it
// for an int64 or uint64 field.
func (p *recordParser) int() (string, bool) {
	p.skipSpace()
	start := p.pos
	if p.pos < len(p.data) && p.data[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	n := p.pos - digits
	// JSON allows no leading zeros; a fraction or exponent ends the fast path.
	if n == 0 || (n > 1 && p.data[digits] == '0') {
		return "", false
	}
	if p.pos < len(p.data) && (p.data[p.pos] == '.' || p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		return "", false
	}
	return string(p.data[start:p.pos]), true
}

func (p *recordParser) int64() (int64, bool) {
	s, ok := p.int()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

func (p *recordParser) uint64() (uint64, bool) {
	s, ok := p.int()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

func (p *recordParser) boolean() (bool, bool) {
	p.skipSpace()
	rest := p.data[p.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		p.pos += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		p.pos += 5
		return false, true
	}
	return false, false
}

func (p *recordParser) strings() ([]string, bool) {
	if !p.consume('[') {
		return nil, false
	}
	out := []string{}
	if p.consume(']') {
		return out, true
	}
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if p.consume(']') {
			return out, true
		}
		if !p.consume(',') {
			return nil, false
		}
	}
}

// record reads one record object into rec.
func (p *recordParser) record(rec *Record) bool {
	return p.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "op":
			rec.Op, ok = p.op()
		case "path":
			rec.Path, ok = p.str()
		case "size":
			rec.Size, ok = p.int64()
		case "offset":
			rec.Offset, ok = p.int64()
		case "sha256":
			rec.SHA256, ok = p.str()
		case "target":
			rec.Target, ok = p.str()
		case "names":
			rec.Names, ok = p.strings()
		case "nlink":
			var v uint64
			v, ok = p.uint64()
			rec.LinkCount = &v
		case "file_size":
			var v int64
			v, ok = p.int64()
			rec.FileSize = &v
		case "errno":
			rec.Errno, ok = p.str()
		case "error":
			rec.Error, ok = p.str()
		case "not_collected":
			rec.NotCollected, ok = p.boolean()
		}
		return ok
	})
}

// segment reads one object of the manifest's segment table into seg.
func (p *recordParser) segment(seg *Segment) bool {
	return p.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "name":
			seg.Name, ok = p.str()
		case "offset":
			seg.Offset, ok = p.int64()
		case "length":
			seg.Length, ok = p.int64()
		case "sha256":
			seg.SHA256, ok = p.str()
		case "size":
			seg.Size, ok = p.int64()
		case "entries":
			var n int64
			n, ok = p.int64()
			seg.Entries = int(n)
			ok = ok && int64(seg.Entries) == n
		}
		return ok
	})
}
