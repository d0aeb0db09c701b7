package serve

import (
	"container/list"
	"sync"
	"time"
)

// cache holds adapted models, least recently used first out, bounded by
// entry count and total bytes; an entry unused for ttl expires.
type cache struct {
	mu         sync.Mutex
	maxEntries int
	maxBytes   int64
	ttl        time.Duration
	now        func() time.Time
	ll         *list.List // front: most recently used
	items      map[string]*list.Element
	bytes      int64
	evicted    map[string]uint64 // by reason: capacity, bytes, ttl
}

type cacheEntry struct {
	a        *adapted
	lastUsed time.Time
}

func newCache(maxEntries int, maxBytes int64, ttl time.Duration, now func() time.Time) *cache {
	return &cache{maxEntries: maxEntries, maxBytes: maxBytes, ttl: ttl, now: now, ll: list.New(),
		items: map[string]*list.Element{}, evicted: map[string]uint64{}}
}

// get returns the adapted model with id, refreshing its last use.
func (c *cache) get(id string) (*adapted, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.expire(now)
	el, ok := c.items[id]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	e.lastUsed = now
	c.ll.MoveToFront(el)
	return e.a, true
}

// put adds a; it reports false when a alone exceeds the byte bound.
func (c *cache) put(a *adapted) bool {
	if a.bytes > c.maxBytes {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.expire(now)
	if el, ok := c.items[a.id]; ok {
		c.remove(el, "")
	}
	c.items[a.id] = c.ll.PushFront(&cacheEntry{a: a, lastUsed: now})
	c.bytes += a.bytes
	for c.ll.Len() > c.maxEntries {
		c.remove(c.ll.Back(), "capacity")
	}
	for c.bytes > c.maxBytes {
		c.remove(c.ll.Back(), "bytes")
	}
	return true
}

// sweep drops expired entries.
func (c *cache) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(c.now())
}

// expire drops entries unused for ttl; they sit at the back of the list.
func (c *cache) expire(now time.Time) {
	for el := c.ll.Back(); el != nil; el = c.ll.Back() {
		if now.Sub(el.Value.(*cacheEntry).lastUsed) < c.ttl {
			return
		}
		c.remove(el, "ttl")
	}
}

func (c *cache) remove(el *list.Element, reason string) {
	e := el.Value.(*cacheEntry)
	c.ll.Remove(el)
	delete(c.items, e.a.id)
	c.bytes -= e.a.bytes
	if reason != "" {
		c.evicted[reason]++
	}
}

// stats returns the entry count, bytes and evictions by reason.
func (c *cache) stats() (int, int64, map[string]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := make(map[string]uint64, len(c.evicted))
	for k, v := range c.evicted {
		ev[k] = v
	}
	return c.ll.Len(), c.bytes, ev
}
