// Package snapshot captures what procsql's tables read from /proc into one
// archive file, and serves that file back as a source.Source, so a query on
// the snapshot returns the rows the live tables returned at capture time.
//
// The file is a zstd-compressed tar archive. Every successful file read is
// one tar entry under proc/ or host/. Everything else that a read returned
// (link targets, directory listings, link counts, digests, and errors with
// their errno) is recorded in manifest.json, which also carries the SHA-256
// of every file entry and the host and capture metadata. docs/snapshot.md
// describes the format.
package snapshot

import (
	"time"
)

// Format names the file format in the manifest.
const Format = "procsql-snapshot"

// Version is the manifest version this package writes and reads.
const Version = 1

// Names of the archive entries that are not captured files.
const (
	manifestName     = "manifest.json"
	manifestHashName = "manifest.json.sha256"
)

// Operations recorded in the manifest, one per source.Source method.
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
	Records []Record    `json:"records"`
	Procs   []Process   `json:"processes"`
	// Executables lists executable copies stored under exe/, made with
	// --copy-deleted-exe.
	Executables []Executable `json:"executables,omitempty"`

	// index finds a record by recordKey; Open fills it.
	index map[string]*Record
}

// recordKey is the key of the record of op on path.
func recordKey(op, path string) string { return op + "\x00" + path }

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
	Op        string   `json:"op"`
	Path      string   `json:"path"`
	Size      int64    `json:"size,omitempty"`
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
