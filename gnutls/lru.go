//go:build cgo

package gnutls

import "container/list"

// lru maps keys to values, holding at most capacity of them: a new one
// drops the least recently used. dropped, when set, sees every value that
// leaves. It is not safe for concurrent use.
type lru[V any] struct {
	capacity int
	m        map[string]*list.Element
	l        *list.List
	dropped  func(V)
}

type lruItem[V any] struct {
	key string
	val V
}

func newLRU[V any](capacity int, dropped func(V)) *lru[V] {
	return &lru[V]{capacity: capacity, m: map[string]*list.Element{}, l: list.New(), dropped: dropped}
}

// get returns the key's value and marks it used.
func (c *lru[V]) get(key string) (V, bool) {
	if e, ok := c.m[key]; ok {
		c.l.MoveToFront(e)
		return e.Value.(*lruItem[V]).val, true
	}
	var zero V
	return zero, false
}

func (c *lru[V]) put(key string, v V) {
	if e, ok := c.m[key]; ok {
		it := e.Value.(*lruItem[V])
		c.drop(it.val)
		it.val = v
		c.l.MoveToFront(e)
		return
	}
	c.m[key] = c.l.PushFront(&lruItem[V]{key, v})
	if c.l.Len() > c.capacity {
		c.remove(c.l.Back().Value.(*lruItem[V]).key)
	}
}

func (c *lru[V]) remove(key string) {
	if e, ok := c.m[key]; ok {
		c.l.Remove(e)
		delete(c.m, key)
		c.drop(e.Value.(*lruItem[V]).val)
	}
}

func (c *lru[V]) drop(v V) {
	if c.dropped != nil {
		c.dropped(v)
	}
}

func (c *lru[V]) len() int { return c.l.Len() }
