package source

import "sync"

// Cache wraps a Source so that each name is read at most once. One Cache
// serves one query: every table and every join side then sees the same bytes
// for a file, so a join never mixes two versions of a process. It is safe for
// concurrent use.
type Cache struct {
	src   Source
	mu    sync.Mutex
	files map[string]cachedBytes
	links map[string]cachedString
	dirs  map[string]cachedNames
	nlink map[string]cachedCount
	hash  map[string]cachedDigest
}

type cachedDigest struct {
	digest Digest
	err    error
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

type cachedCount struct {
	n   uint64
	err error
}

// NewCache returns a Cache that reads through src.
func NewCache(src Source) *Cache {
	return &Cache{
		src:   src,
		files: make(map[string]cachedBytes),
		links: make(map[string]cachedString),
		dirs:  make(map[string]cachedNames),
		nlink: make(map[string]cachedCount),
		hash:  make(map[string]cachedDigest),
	}
}

// memo returns the cached value for name or computes it with read. The lock is
// not held during read, so two goroutines may read the same name at once; the
// first result stored wins and both return it.
func memo[V any](c *Cache, m map[string]V, name string, read func() V) V {
	c.mu.Lock()
	v, ok := m[name]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = read()
	c.mu.Lock()
	if first, ok := m[name]; ok {
		v = first
	} else {
		m[name] = v
	}
	c.mu.Unlock()
	return v
}

// ReadFile implements Source.
func (c *Cache) ReadFile(name string) ([]byte, error) {
	v := memo(c, c.files, name, func() cachedBytes {
		data, err := c.src.ReadFile(name)
		return cachedBytes{data, err}
	})
	return v.data, v.err
}

// ReadLink implements Source.
func (c *Cache) ReadLink(name string) (string, error) {
	v := memo(c, c.links, name, func() cachedString {
		text, err := c.src.ReadLink(name)
		return cachedString{text, err}
	})
	return v.text, v.err
}

// ReadDir implements Source.
func (c *Cache) ReadDir(name string) ([]string, error) {
	v := memo(c, c.dirs, name, func() cachedNames {
		names, err := c.src.ReadDir(name)
		return cachedNames{names, err}
	})
	return v.names, v.err
}

// LinkCount implements Source.
func (c *Cache) LinkCount(name string) (uint64, error) {
	v := memo(c, c.nlink, name, func() cachedCount {
		n, err := c.src.LinkCount(name)
		return cachedCount{n, err}
	})
	return v.n, v.err
}

// Hash implements Source.
func (c *Cache) Hash(name string) (Digest, error) {
	v := memo(c, c.hash, name, func() cachedDigest {
		digest, err := c.src.Hash(name)
		return cachedDigest{digest, err}
	})
	return v.digest, v.err
}

// HostDir implements Source.
func (c *Cache) HostDir(name string) ([]string, error) {
	v := memo(c, c.dirs, "\x00host/"+name, func() cachedNames {
		names, err := c.src.HostDir(name)
		return cachedNames{names, err}
	})
	return v.names, v.err
}

// HostFile implements Source. Host files are small and read rarely, so they
// share the file map under a prefix that no /proc name can have.
func (c *Cache) HostFile(name string) ([]byte, error) {
	v := memo(c, c.files, "\x00host/"+name, func() cachedBytes {
		data, err := c.src.HostFile(name)
		return cachedBytes{data, err}
	})
	return v.data, v.err
}

// Describe implements Source.
func (c *Cache) Describe() Description { return c.src.Describe() }
