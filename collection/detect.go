package collection

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Layout names a collector's output layout.
type Layout string

// The layouts Open imports.
const (
	LayoutUAC      Layout = "uac"
	LayoutCatScale Layout = "catscale"
)

// Open opens the collection at p, an archive (.tar.gz, .tgz, .tar or .zip)
// or an extracted directory, finds the collector's layout and rebuilds the
// /proc tree from it. The collection may sit at the top of the archive or
// inside one top-level directory. Open writes nothing to disk, and holds in
// memory only the files it imports, within DefaultLimits.
func Open(p string) (*Tree, error) {
	return OpenWithLimits(p, DefaultLimits)
}

// OpenWithLimits is Open with other limits.
func OpenWithLimits(p string, limits Limits) (*Tree, error) {
	fsys, _, closeFS, err := openFS(p, limits, wantContent)
	if err != nil {
		return nil, fmt.Errorf("open collection %s: %w", p, err)
	}
	defer closeFS()
	layout, root, err := detect(fsys)
	if err != nil {
		return nil, fmt.Errorf("open collection %s: %w", p, err)
	}
	var tree *Tree
	switch layout {
	case LayoutUAC:
		tree, err = loadUAC(fsys, root, p)
	case LayoutCatScale:
		tree, err = loadCatScale(fsys, root)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s collection %s: %w", layout, p, err)
	}
	if tree.desc.Location == "" {
		tree.desc.Location = p
	}
	return tree, nil
}

// detect finds the layout of fsys at its top or inside its only top-level
// directory, and returns the directory that holds it.
func detect(fsys fs.FS) (Layout, string, error) {
	if layout, ok := layoutAt(fsys, "."); ok {
		return layout, ".", nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", "", fmt.Errorf("list the top directory: %w", err)
	}
	if len(entries) == 1 && entries[0].IsDir() {
		if layout, ok := layoutAt(fsys, entries[0].Name()); ok {
			return layout, entries[0].Name(), nil
		}
	}
	return "", "", errors.New(unknownLayout(fsys, entries))
}

// layoutAt reports the layout whose marks dir holds: UAC's live_response
// directory with uac.log or a hash_list file beside it, or CatScale's
// catscale_out/Process_and_Network.
func layoutAt(fsys fs.FS, dir string) (Layout, bool) {
	if isDir(fsys, path.Join(dir, "catscale_out", "Process_and_Network")) {
		return LayoutCatScale, true
	}
	if !isDir(fsys, path.Join(dir, "live_response")) {
		return "", false
	}
	for _, mark := range []string{"uac.log", "hash_list.sha256", "hash_list.sha1", "hash_list.md5"} {
		if isFile(fsys, path.Join(dir, mark)) {
			return LayoutUAC, true
		}
	}
	return "", false
}

// unknownLayout explains why no layout was found, naming the most likely
// mistake when it can be seen.
func unknownLayout(fsys fs.FS, top []fs.DirEntry) string {
	const formats = "procsql reads UAC collections (live_response/ with uac.log or hash_list.* beside it) and CatScale collections (catscale_out/Process_and_Network)"
	for _, e := range top {
		switch e.Name() {
		case "Process_and_Network":
			return "found Process_and_Network at the top: give the directory or archive that holds catscale_out; " + formats
		case "process", "network", "system":
			if isFile(fsys, "process/hash_running_processes.sha256") || isDir(fsys, "process/proc") {
				return "found the inside of live_response: give the collection's top directory, which holds uac.log; " + formats
			}
		case "live_response":
			return "found live_response but neither uac.log nor a hash_list file beside it; " + formats
		}
	}
	names := make([]string, 0, min(len(top), 5))
	for _, e := range top[:min(len(top), 5)] {
		names = append(names, e.Name())
	}
	list := strings.Join(names, ", ")
	if len(top) > 5 {
		list += ", ..."
	}
	if list == "" {
		list = "nothing"
	}
	return fmt.Sprintf("not a known collection layout (the top holds %s); %s", list, formats)
}

func isDir(fsys fs.FS, name string) bool {
	info, err := fs.Stat(fsys, name)
	return err == nil && info.IsDir()
}

func isFile(fsys fs.FS, name string) bool {
	info, err := fs.Stat(fsys, name)
	return err == nil && info.Mode().IsRegular()
}

// wantContent selects the archive entries whose content Open reads: the
// text artifacts that importers parse and the collectors' logs and hash
// lists. Compressed memory dumps, recovered binaries, bodyfiles and
// collected file trees stay out of memory; they are still hashed, so a
// hash list check covers them. A name may start with one top-level
// directory, which detect allows.
func wantContent(name string) bool {
	if wantContentAt(name) {
		return true
	}
	if _, rest, ok := strings.Cut(name, "/"); ok {
		return wantContentAt(rest)
	}
	return false
}

func wantContentAt(name string) bool {
	base := path.Base(name)
	if strings.HasSuffix(base, ".gz") || strings.HasPrefix(base, "recovered_") {
		return false
	}
	top, rest, _ := strings.Cut(name, "/")
	switch top {
	case "uac.log", "hash_list.md5", "hash_list.sha1", "hash_list.sha256":
		return rest == ""
	case "live_response":
		return true
	case "[root]":
		// Files UAC copied from the host, of which procsql reads a few
		// from /etc.
		dir, _, _ := strings.Cut(rest, "/")
		return dir == "etc"
	case "catscale_out":
		return true
	}
	return false
}
