// Package snapshot captures what procsql's tables read from /proc into one
// archive file, and serves that file back as a source.Source, so a query on
// the snapshot returns the rows the live tables returned at capture time.
//
// The file is a tar archive cut into segments, each compressed as its own
// zstd frame, so the concatenation decompresses to one tar stream that
// standard tools extract, and a query decompresses only the segments it
// reads. A segment holds the reads of one part of one process (or of the
// host): one tar entry per successful file read, and a records file with
// the outcome of every read, errors and link targets included. The last
// frame holds manifest.json, with the host and capture metadata, and
// segments.json, with each segment's offset and SHA-256, and a footer frame
// points to it.
// docs/snapshot.md describes the format.
package snapshot

import (
	"time"
)

// Format names the file format in the manifest.
const Format = "procsql-snapshot"

// Version is the format version this package writes and reads. Version 1,
// one tar stream with all records in manifest.json, was written only by
// development builds.
const Version = 2

// Operations recorded in the segments, one per source.Source method.
const (
	OpRead        = "read"         // ReadFile: content in the archive at Path
	OpReadLink    = "readlink"     // ReadLink: Target
	OpReadDir     = "readdir"      // ReadDir: Names
	OpStat        = "stat"         // Stat: LinkCount, and Size when known
	OpHash        = "hash"         // Hash: SHA256 and Size of the file behind the link
	OpHostRead    = "host_read"    // HostFile: content in the archive at Path
	OpHostReadDir = "host_readdir" // HostDir: Names
	OpProbe       = "probe"        // ProbePIDs: Names, with the bound in Path as "proc/probe/<max>"
)

// Manifest is the content of manifest.json.
type Manifest struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Host    Host        `json:"host"`
	Capture CaptureInfo `json:"capture"`
	Procs   []Process   `json:"processes"`
	// Executables lists executable copies stored under exe/, made with
	// --copy-deleted-exe.
	Executables []Executable `json:"executables,omitempty"`
	// Segments lists the compressed frames before the manifest, in file
	// order; they cover the file from its first byte without gaps. They
	// are stored in segments.json, beside manifest.json, which holds their
	// count and the SHA-256 of that file: a table of 50,000 segments would
	// otherwise make the manifest too slow to decode.
	Segments       []Segment `json:"-"`
	SegmentCount   int       `json:"segment_count"`
	SegmentsSHA256 string    `json:"segments_sha256"`
}

// Segment describes one zstd frame of the file and the tar entries it
// decompresses to.
type Segment struct {
	Name    string `json:"name"`    // segmentOf of every path inside
	Offset  int64  `json:"offset"`  // of the frame in the file, in bytes
	Length  int64  `json:"length"`  // of the compressed frame, in bytes
	SHA256  string `json:"sha256"`  // of the compressed frame
	Size    int64  `json:"size"`    // of the decompressed tar entries, in bytes
	Entries int    `json:"entries"` // tar entries, the records file included
}

// Host describes the captured host.
type Host struct {
	Hostname      string    `json:"hostname"`
	KernelRelease string    `json:"kernel_release"`
	Architecture  string    `json:"architecture"`
	ByteOrder     string    `json:"byte_order"` // "little" or "big"
	BootTime      time.Time `json:"boot_time,omitzero"`
	PIDMax        int64     `json:"pid_max,omitempty"`
}

// CaptureInfo describes the collection itself.
type CaptureInfo struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Collector   string    `json:"collector"` // "procsql <version>"
	UID         int       `json:"uid"`
	CommandLine []string  `json:"command_line"`
	ProcRoot    string    `json:"proc_root"`
}

// Record is the outcome of one read. Path is the archive path: "proc/" plus
// the procfs name for /proc reads, "host/" plus the host path otherwise.
type Record struct {
	Op   string `json:"op"`
	Path string `json:"path"`
	Size int64  `json:"size,omitempty"`
	// Offset is the position of a successful read's first byte in the
	// tar stream of its segment, so a query finds it without walking the
	// tar headers.
	Offset    int64    `json:"offset,omitempty"`
	SHA256    string   `json:"sha256,omitempty"` // of the archive entry for read ops; of the target file for hash
	Target    string   `json:"target,omitempty"`
	Names     []string `json:"names,omitempty"`
	LinkCount *uint64  `json:"nlink,omitempty"`
	// FileSize is the size that a stat record reports; Size is the size of
	// an archive entry or hashed file.
	FileSize *int64 `json:"file_size,omitempty"`
	// Errno is the symbolic errno of a failed read, such as "EACCES".
	// Error holds the message of a failure that carried no errno.
	Errno string `json:"errno,omitempty"`
	Error string `json:"error,omitempty"`
	// NotCollected marks a read of a copied tree that lacked the file.
	NotCollected bool `json:"not_collected,omitempty"`
}

// Process records when the files of one process were read.
type Process struct {
	PID   int       `json:"pid"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Executable is a copy of a deleted or memfd executable stored in the
// archive at Path.
type Executable struct {
	PID       int    `json:"pid"`
	Path      string `json:"path"`
	SHA256    string `json:"sha256"`    // of the stored bytes
	Size      int64  `json:"size"`      // of the stored bytes
	Truncated bool   `json:"truncated"` // the copy stopped at the size cap
	// Error is the reason no copy was stored. Path, SHA256 and Size are then empty.
	Error string `json:"error,omitempty"`
}

// failed reports whether the read the record describes failed.
func (r Record) failed() bool {
	return r.Errno != "" || r.Error != "" || r.NotCollected
}
