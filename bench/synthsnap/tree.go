package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// treeStats counts what the tree holds, for the summary.
type treeStats struct {
	files, descriptors, mappings, envVars, threads int
	bytes                                          int64
}

func (s *treeStats) add(o treeStats) {
	s.files += o.files
	s.bytes += o.bytes
	s.descriptors += o.descriptors
	s.mappings += o.mappings
	s.envVars += o.envVars
	s.threads += o.threads
}

// writeTree writes h as a copied /proc tree under dir, in the layout that
// source.Dir reads. dir/proc contains the procfs files. Links are files
// containing the link text, and the .error, .nlink, .size and .sha256 side
// files stand for what a copy cannot contain. dir/etc and dir/sys contain
// the host files that the tables read beside /proc.
func writeTree(ctx context.Context, h *host, cfg config, dir string) (treeStats, error) {
	var total treeStats
	proc := filepath.Join(dir, "proc")
	hostFiles := map[string][]byte{
		"proc/stat":                 kernelStatFile(h, h.procs[len(h.procs)-1].pid+1000),
		"proc/meminfo":              meminfoFile(h, len(h.procs)),
		"proc/modules":              modulesFile(h),
		"proc/listing.txt":          listingFile(h),
		"proc/sys/kernel/hostname":  []byte(h.hostname + "\n"),
		"proc/sys/kernel/osrelease": []byte("6.1.0-28-amd64\n"),
		"proc/sys/kernel/version":   []byte("#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)\n"),
		"proc/sys/kernel/pid_max":   []byte("4194304\n"),
		"etc/passwd":                passwdFile(h),
		"etc/group":                 groupFile(h),
	}
	if h.preloadFile != "" {
		hostFiles["etc/ld.so.preload"] = []byte(h.preloadFile)
	}
	for name, content := range sysModuleFiles(h) {
		hostFiles["sys/module/"+name] = []byte(content)
	}
	for name, content := range hostFiles {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return total, err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return total, err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return total, err
		}
		total.files++
		total.bytes += int64(len(content))
	}

	net := netFiles(h)
	jobs := make(chan *process)
	results := make(chan treeStats)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sum treeStats
			for p := range jobs {
				stats, err := writeProcess(proc, p, h, cfg, net[p.ns.net])
				if err != nil {
					select {
					case errs <- fmt.Errorf("write /proc/%d: %w", p.pid, err):
					default:
					}
					continue
				}
				sum.add(stats)
			}
			results <- sum
		}()
	}
	go func() {
		defer close(jobs)
		for _, p := range h.procs {
			if ctx.Err() != nil || len(errs) > 0 {
				return
			}
			jobs <- p
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for sum := range results {
		total.add(sum)
	}
	select {
	case err := <-errs:
		return total, err
	default:
	}
	return total, ctx.Err()
}

// dirWriter writes the files of one process directory and counts them.
type dirWriter struct {
	dir   string
	files int
	bytes int64
	err   error
}

func (w *dirWriter) mkdir(rel string) {
	if w.err == nil {
		w.err = os.MkdirAll(filepath.Join(w.dir, rel), 0o755)
	}
}

func (w *dirWriter) write(rel string, content []byte) {
	if w.err != nil {
		return
	}
	w.err = os.WriteFile(filepath.Join(w.dir, rel), content, 0o644)
	w.files++
	w.bytes += int64(len(content))
}

// writeError records that reading rel failed with ENOENT, as the kernel
// returns for the exe of a kernel thread or the links of a zombie.
func (w *dirWriter) writeError(rel string) {
	w.write(rel+".error", []byte("ENOENT\n"))
}

// writeProcess writes /proc/<pid> of one process. net holds the files of
// its network namespace, written into the directory of the namespace's
// leader only.
func writeProcess(proc string, p *process, h *host, cfg config, net map[string][]byte) (treeStats, error) {
	c := newProcContent(p, h, cfg)
	w := &dirWriter{dir: filepath.Join(proc, strconv.Itoa(p.pid))}
	for _, sub := range []string{"fd", "fdinfo", "ns", "task/" + strconv.Itoa(p.pid)} {
		w.mkdir(sub)
	}
	w.write("stat", c.processStat())
	w.write("status", c.status())
	w.write("cmdline", c.cmdline())
	w.write("environ", c.environ())
	w.write("cgroup", []byte("0::"+p.cgroup+"\n"))
	w.write("maps", c.mapsFile())
	if len(c.maps) > 0 {
		w.write("smaps", c.smapsFile())
	}

	if p.kernel || p.zombie {
		w.writeError("exe")
	} else {
		link := p.exe
		nlink := "1\n"
		if p.exeDeleted {
			link += " (deleted)"
			nlink = "0\n"
		}
		sum, size := c.digest()
		w.write("exe", []byte(link))
		w.write("exe.nlink", []byte(nlink))
		w.write("exe.size", []byte(strconv.FormatInt(size, 10)+"\n"))
		w.write("exe.sha256", []byte(fmt.Sprintf("%s %d\n", sum, size)))
	}
	if p.zombie {
		for _, link := range []string{"cwd", "root", "ns/pid", "ns/net", "ns/mnt"} {
			w.writeError(link)
		}
	} else {
		w.write("cwd", []byte(p.cwd))
		w.write("root", []byte(p.root))
		w.write("ns/pid", []byte(fmt.Sprintf("pid:[%d]", p.ns.pid)))
		w.write("ns/net", []byte(fmt.Sprintf("net:[%d]", p.ns.net.inode)))
		w.write("ns/mnt", []byte(fmt.Sprintf("mnt:[%d]", p.ns.mnt)))
	}

	fds := c.descriptors()
	for _, spec := range fds {
		n := strconv.Itoa(spec.num)
		w.write("fd/"+n, []byte(spec.target))
		w.write("fdinfo/"+n, fdinfo(spec))
		if spec.size >= 0 {
			w.write("fd/"+n+".nlink", []byte(strconv.Itoa(spec.nlink)+"\n"))
			w.write("fd/"+n+".size", []byte(strconv.FormatInt(spec.size, 10)+"\n"))
		}
	}

	w.write("task/"+strconv.Itoa(p.pid)+"/stat", c.threadStat(0))
	for i := range p.threadNames {
		tid := strconv.Itoa(p.pid + 1 + i)
		w.mkdir("task/" + tid)
		w.write("task/"+tid+"/stat", c.threadStat(1+i))
	}

	if p.ns.net.leader == p {
		w.mkdir("net")
		for _, name := range netFileNames {
			w.write("net/"+name, net[name])
		}
	}
	if w.err != nil {
		return treeStats{}, w.err
	}
	return treeStats{files: w.files, bytes: w.bytes, descriptors: len(fds), mappings: len(c.maps), envVars: len(p.env), threads: 1 + len(p.threadNames)}, nil
}

// removeTree deletes a tree that writeTree wrote, removing the process
// directories in parallel because a tree of 10,000 processes holds nearly a
// million files and unlinking them one at a time is slow on disk.
func removeTree(dir string) error {
	proc := filepath.Join(dir, "proc")
	entries, _ := os.ReadDir(proc)
	names := make(chan string)
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range names {
				os.RemoveAll(filepath.Join(proc, name))
			}
		}()
	}
	for _, e := range entries {
		names <- e.Name()
	}
	close(names)
	wg.Wait()
	return os.RemoveAll(dir)
}
