package serve

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// connLimit caps the open connections of a listener. A connection past
// the cap is answered at once with 503 and closed, so a client learns why
// instead of waiting in the kernel's accept queue; the accept loop never
// blocks on it.
type connLimit struct {
	net.Listener
	max      int64
	open     atomic.Int64
	refused  atomic.Uint64
	response []byte
}

func newConnLimit(ln net.Listener, max int) *connLimit {
	body := fmt.Sprintf(`{"error":"server busy: %d connections are open, the limit; retry later"}`+"\n", max)
	resp := fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return &connLimit{Listener: ln, max: int64(max), response: []byte(resp)}
}

func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refused.Add(1)
		go l.refuse(c)
	}
}

// refuse answers 503 and closes c. It reads what the client sent (for at
// most a second) before closing, so the close does not reset the
// connection and lose the answer.
func (l *connLimit) refuse(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(l.response); err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// limitedConn returns its slot once, on the first Close.
type limitedConn struct {
	net.Conn
	l    *connLimit
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// refusedCount is the number of connections refused (0 before Serve).
func (l *connLimit) refusedCount() uint64 {
	if l == nil {
		return 0
	}
	return l.refused.Load()
}
