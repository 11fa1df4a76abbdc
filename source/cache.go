package source

import (
	"errors"
	"strconv"
	"sync"
)

// Cache wraps a Source so that each name is read at most once. One Cache
// serves one query: every table and every join side then sees the same bytes
// for a file, so a join never mixes two versions of a process. It is safe for
// concurrent use.
type Cache struct {
	src   Source
	files shardedMap[cachedBytes]
	links shardedMap[cachedString]
	dirs  shardedMap[cachedNames]
	stat  shardedMap[cachedStat]
	hash  shardedMap[cachedDigest]

	mu      sync.Mutex
	damaged error // the first read error that wraps ErrDamaged
}

// cacheShards is the number of independently locked parts of each map. A
// scan requests every file from 2 × GOMAXPROCS goroutines, and with one
// lock they queued on it for about a tenth of an fds scan.
const cacheShards = 64

// shardedMap maps names to cached results, split by a hash of the name.
type shardedMap[V any] [cacheShards]struct {
	mu sync.Mutex
	m  map[string]*entry[V]
}

// entry returns the entry for name, adding an empty one on first use.
func (s *shardedMap[V]) entry(name string) *entry[V] {
	// FNV-1a: cheap, and it spreads names that differ in one digit.
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	shard := &s[h%cacheShards]
	shard.mu.Lock()
	defer shard.mu.Unlock()
	if shard.m == nil {
		shard.m = map[string]*entry[V]{}
	}
	e, ok := shard.m[name]
	if !ok {
		e = &entry[V]{}
		shard.m[name] = e
	}
	return e
}

// entry is one cached result. once makes concurrent callers for the same
// name wait for a single read instead of reading twice.
type entry[V any] struct {
	once  sync.Once
	value V
}

type cachedBytes struct {
	data []byte
	err  error
}

type cachedString struct {
	text string
	err  error
}

type cachedNames struct {
	names []string
	err   error
}

type cachedStat struct {
	stat FileStat
	err  error
}

type cachedDigest struct {
	digest Digest
	err    error
}

// NewCache returns a Cache that reads through src.
func NewCache(src Source) *Cache {
	return &Cache{src: src}
}

// memo returns the cached value for name, calling read exactly once per name
// even when several goroutines ask at the same time.
func memo[V any](m *shardedMap[V], name string, read func() V) V {
	e := m.entry(name)
	e.once.Do(func() { e.value = read() })
	return e.value
}

// check keeps the first error that wraps ErrDamaged, whichever table made
// the read and whatever it did with the error, and returns err.
func (c *Cache) check(err error) error {
	if err != nil && errors.Is(err, ErrDamaged) {
		c.mu.Lock()
		if c.damaged == nil {
			c.damaged = err
		}
		c.mu.Unlock()
	}
	return err
}

// Err returns the first read of damaged data through the Cache, or nil. A
// query that made such a read must fail, even where a table treated the
// error as a missing file.
func (c *Cache) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.damaged
}

// ReadFile implements Source.
func (c *Cache) ReadFile(name string) ([]byte, error) {
	v := memo(&c.files, name, func() cachedBytes {
		data, err := c.src.ReadFile(name)
		return cachedBytes{data, c.check(err)}
	})
	return v.data, v.err
}

// ReadLink implements Source.
func (c *Cache) ReadLink(name string) (string, error) {
	v := memo(&c.links, name, func() cachedString {
		text, err := c.src.ReadLink(name)
		return cachedString{text, c.check(err)}
	})
	return v.text, v.err
}

// ReadDir implements Source.
func (c *Cache) ReadDir(name string) ([]string, error) {
	v := memo(&c.dirs, name, func() cachedNames {
		names, err := c.src.ReadDir(name)
		return cachedNames{names, c.check(err)}
	})
	return v.names, v.err
}

// Stat implements Source.
func (c *Cache) Stat(name string) (FileStat, error) {
	v := memo(&c.stat, name, func() cachedStat {
		st, err := c.src.Stat(name)
		return cachedStat{st, c.check(err)}
	})
	return v.stat, v.err
}

// Hash implements Source.
func (c *Cache) Hash(name string) (Digest, error) {
	v := memo(&c.hash, name, func() cachedDigest {
		digest, err := c.src.Hash(name)
		return cachedDigest{digest, c.check(err)}
	})
	return v.digest, v.err
}

// ProbePIDs implements Source.
func (c *Cache) ProbePIDs(max int) ([]int, error) {
	v := memo(&c.dirs, "\x00probe/"+strconv.Itoa(max), func() cachedNames {
		pids, err := c.src.ProbePIDs(max)
		return cachedNames{names: pidNames(pids), err: c.check(err)}
	})
	return namePIDs(v.names), v.err
}

// HostDir implements Source.
func (c *Cache) HostDir(name string) ([]string, error) {
	v := memo(&c.dirs, "\x00host/"+name, func() cachedNames {
		names, err := c.src.HostDir(name)
		return cachedNames{names, c.check(err)}
	})
	return v.names, v.err
}

// HostFile implements Source. Host files are small and read rarely, so they
// share the file map under a prefix that no /proc name can have.
func (c *Cache) HostFile(name string) ([]byte, error) {
	v := memo(&c.files, "\x00host/"+name, func() cachedBytes {
		data, err := c.src.HostFile(name)
		return cachedBytes{data, c.check(err)}
	})
	return v.data, v.err
}

// Describe implements Source.
func (c *Cache) Describe() Description { return c.src.Describe() }

func pidNames(pids []int) []string {
	names := make([]string, len(pids))
	for i, pid := range pids {
		names[i] = strconv.Itoa(pid)
	}
	return names
}

func namePIDs(names []string) []int {
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Tracker passes reads to a Source and keeps the first error among them
// that wraps ErrDamaged. Statements that share one Cache each read through
// their own Tracker, so a damaged file fails only the statements that read
// it. It is safe for concurrent use.
type Tracker struct {
	Source
	mu      sync.Mutex
	damaged error
}

// Track returns a Tracker over src.
func Track(src Source) *Tracker { return &Tracker{Source: src} }

func (t *Tracker) check(err error) error {
	if err != nil && errors.Is(err, ErrDamaged) {
		t.mu.Lock()
		if t.damaged == nil {
			t.damaged = err
		}
		t.mu.Unlock()
	}
	return err
}

// Err returns the first read of damaged data through t, or nil.
func (t *Tracker) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.damaged
}

// ReadFile implements Source.
func (t *Tracker) ReadFile(name string) ([]byte, error) {
	data, err := t.Source.ReadFile(name)
	return data, t.check(err)
}

// ReadLink implements Source.
func (t *Tracker) ReadLink(name string) (string, error) {
	text, err := t.Source.ReadLink(name)
	return text, t.check(err)
}

// ReadDir implements Source.
func (t *Tracker) ReadDir(name string) ([]string, error) {
	names, err := t.Source.ReadDir(name)
	return names, t.check(err)
}

// Stat implements Source.
func (t *Tracker) Stat(name string) (FileStat, error) {
	st, err := t.Source.Stat(name)
	return st, t.check(err)
}

// Hash implements Source.
func (t *Tracker) Hash(name string) (Digest, error) {
	d, err := t.Source.Hash(name)
	return d, t.check(err)
}

// ProbePIDs implements Source.
func (t *Tracker) ProbePIDs(max int) ([]int, error) {
	pids, err := t.Source.ProbePIDs(max)
	return pids, t.check(err)
}

// HostFile implements Source.
func (t *Tracker) HostFile(name string) ([]byte, error) {
	data, err := t.Source.HostFile(name)
	return data, t.check(err)
}

// HostDir implements Source.
func (t *Tracker) HostDir(name string) ([]string, error) {
	names, err := t.Source.HostDir(name)
	return names, t.check(err)
}
