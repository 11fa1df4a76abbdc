package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// segmentPlan is the content of one segment: its records in path order and
// the archive paths of its files.
type segmentPlan struct {
	name    string
	records []Record
	files   []string
}

// planSegments sorts records and stored files into segments, ordered by
// name, so that two captures of the same data produce the same file.
func planSegments(records []Record, content map[string][]byte) []*segmentPlan {
	byName := map[string]*segmentPlan{}
	get := func(name string) *segmentPlan {
		p, ok := byName[name]
		if !ok {
			p = &segmentPlan{name: name}
			byName[name] = p
		}
		return p
	}
	for _, rec := range records {
		p := get(segmentOf(rec.Path))
		p.records = append(p.records, rec)
	}
	for name := range content {
		p := get(segmentOf(name))
		p.files = append(p.files, name)
	}
	plans := make([]*segmentPlan, 0, len(byName))
	for _, p := range byName {
		sort.Strings(p.files)
		plans = append(plans, p)
	}
	sort.Slice(plans, func(i, j int) bool { return plans[i].name < plans[j].name })
	return plans
}

// compressedSegment is a segment ready to be written.
type compressedSegment struct {
	frame   []byte
	size    int64
	entries int
	err     error
}

// writeSnapshot writes the segments, each as one zstd frame, then the
// manifest frame and the footer, and fills m.Segments. Segments are built
// and compressed on GOMAXPROCS workers and written in plan order.
func writeSnapshot(ctx context.Context, w io.Writer, m *Manifest, plans []*segmentPlan, content map[string][]byte) error {
	modTime := m.Capture.Start.UTC().Truncate(time.Second)
	workers := runtime.GOMAXPROCS(0)
	// results[i] receives segment i; at most 2 * workers segments are built
	// ahead of the writer, which bounds the memory held in frames.
	results := make([]chan compressedSegment, len(plans))
	for i := range results {
		results[i] = make(chan compressedSegment, 1)
	}
	// Cancelling first stops the feeder, which closes jobs and so ends the
	// workers that wg.Wait waits for.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	ahead := make(chan struct{}, 2*workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
			if err == nil {
				defer enc.Close()
			}
			for i := range jobs {
				if err != nil {
					results[i] <- compressedSegment{err: fmt.Errorf("start zstd encoder: %w", err)}
					continue
				}
				results[i] <- buildSegment(enc, plans[i], content, modTime)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range plans {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()

	var offset int64
	m.Segments = make([]Segment, 0, len(plans))
	for i, p := range plans {
		var seg compressedSegment
		select {
		case seg = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-ahead
		if seg.err != nil {
			return seg.err
		}
		if _, err := w.Write(seg.frame); err != nil {
			return fmt.Errorf("write segment %s: %w", p.name, err)
		}
		sum := sha256.Sum256(seg.frame)
		m.Segments = append(m.Segments, Segment{
			Name: p.name, Offset: offset, Length: int64(len(seg.frame)),
			SHA256: hex.EncodeToString(sum[:]), Size: seg.size, Entries: seg.entries,
		})
		offset += int64(len(seg.frame))
	}

	frame, err := manifestFrame(m, modTime)
	if err != nil {
		return err
	}
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	ft := footer{manifestOffset: offset, manifestLength: int64(len(frame))}
	if _, err := w.Write(ft.encode()); err != nil {
		return fmt.Errorf("write footer: %w", err)
	}
	return nil
}

// buildSegment writes a segment's records file and then its files as tar
// entries without the end-of-archive marker, and compresses them. The
// records come first, so a reader finds them in the first header. Each read
// record holds its file's offset, so the files are laid out first.
func buildSegment(enc *zstd.Encoder, p *segmentPlan, content map[string][]byte, modTime time.Time) compressedSegment {
	if p.records == nil {
		p.records = []Record{}
	}
	var files bytes.Buffer
	tw := tar.NewWriter(&files)
	offsets := make(map[string]int64, len(p.files))
	for _, name := range p.files {
		if err := tw.WriteHeader(entryHeader(name, int64(len(content[name])), modTime)); err != nil {
			return compressedSegment{err: fmt.Errorf("write archive entry %q: %w", name, err)}
		}
		offsets[name] = int64(files.Len())
		if _, err := tw.Write(content[name]); err != nil {
			return compressedSegment{err: fmt.Errorf("write archive entry %q: %w", name, err)}
		}
	}
	// Flush pads the last entry to a whole tar block; Close would also add
	// the end marker, which only the manifest frame carries.
	if err := tw.Flush(); err != nil {
		return compressedSegment{err: fmt.Errorf("write segment %s: %w", p.name, err)}
	}

	// The records file's length moves the files, and the offsets in it
	// change that length. Tar pads it to 512 bytes, so the loop below
	// rarely needs more than two rounds to stop growing.
	var head bytes.Buffer
	var shift int64
	for {
		for i := range p.records {
			if off, ok := offsets[p.records[i].Path]; ok && (p.records[i].Op == OpRead || p.records[i].Op == OpHostRead) {
				p.records[i].Offset = off + shift
			}
		}
		records, err := json.Marshal(p.records)
		if err != nil {
			return compressedSegment{err: fmt.Errorf("encode records of %s: %w", p.name, err)}
		}
		head.Reset()
		htw := tar.NewWriter(&head)
		if err := writeEntry(htw, recordsName(p.name), records, modTime); err != nil {
			return compressedSegment{err: err}
		}
		if err := htw.Flush(); err != nil {
			return compressedSegment{err: fmt.Errorf("write segment %s: %w", p.name, err)}
		}
		if int64(head.Len()) == shift {
			break
		}
		shift = int64(head.Len())
	}
	data := append(head.Bytes(), files.Bytes()...)
	return compressedSegment{
		frame:   enc.EncodeAll(data, nil),
		size:    int64(len(data)),
		entries: len(p.files) + 1,
	}
}

// manifestFrame compresses the tar entries segments.json, manifest.json
// and its digest, followed by the end-of-archive marker.
func manifestFrame(m *Manifest, modTime time.Time) ([]byte, error) {
	segments, err := json.Marshal(m.Segments)
	if err != nil {
		return nil, fmt.Errorf("encode segment table: %w", err)
	}
	segSum := sha256.Sum256(segments)
	m.SegmentCount = len(m.Segments)
	m.SegmentsSHA256 = hex.EncodeToString(segSum[:])
	manifest, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	sum := sha256.Sum256(manifest)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := writeEntry(tw, segmentsName, segments, modTime); err != nil {
		return nil, err
	}
	if err := writeEntry(tw, manifestName, manifest, modTime); err != nil {
		return nil, err
	}
	if err := writeEntry(tw, manifestHashName, []byte(hex.EncodeToString(sum[:])+"  "+manifestName+"\n"), modTime); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("finish tar stream: %w", err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("start zstd encoder: %w", err)
	}
	defer enc.Close()
	return enc.EncodeAll(buf.Bytes(), nil), nil
}

func entryHeader(name string, size int64, modTime time.Time) *tar.Header {
	return &tar.Header{
		Name:     name,
		Typeflag: tar.TypeReg,
		Mode:     0o444,
		Size:     size,
		ModTime:  modTime,
		Format:   tar.FormatPAX,
	}
}

func writeEntry(tw *tar.Writer, name string, data []byte, modTime time.Time) error {
	if err := tw.WriteHeader(entryHeader(name, int64(len(data)), modTime)); err != nil {
		return fmt.Errorf("write archive entry %q: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write archive entry %q: %w", name, err)
	}
	return nil
}
