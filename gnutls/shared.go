//go:build cgo

package gnutls

import (
	"net"
	"sync"
)

// shared is the lifetime of a C object that sessions use: Close marks it
// closed, and free runs once it is closed and no session holds it.
type shared struct {
	mu     sync.Mutex
	refs   int  // sessions using it
	closed bool // Close was called
	free   func()
}

// acquire takes a reference for a session; it fails after Close.
func (s *shared) acquire() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	s.refs++
	return nil
}

// holding runs attach, which hands the object to a session, with a
// reference taken for it; the reference goes back if attach fails.
func (s *shared) holding(attach func() error) error {
	if err := s.acquire(); err != nil {
		return err
	}
	err := attach()
	if err != nil {
		s.release()
	}
	return err
}

func (s *shared) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	s.maybeFree()
}

// close marks the object closed; it is idempotent.
func (s *shared) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.maybeFree()
}

func (s *shared) maybeFree() {
	if s.closed && s.refs == 0 && s.free != nil {
		s.free()
		s.free = nil
	}
}
