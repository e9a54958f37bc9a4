package delivery

import (
	"net"
	"time"
)

// phaseConn is the TCP connection under a session. It owns the deadlines:
// go-smtp sets a deadline around each command and clears it afterwards,
// which leaves DATA writes unbounded, and it has no deadline for the TLS
// handshake, so its SetDeadline calls are ignored here and each phase arms
// its own.
//
// A phaseConn is used by one goroutine at a time; Close may be called from
// any goroutine (context cancellation).
type phaseConn struct {
	net.Conn

	// timeout is re-armed before every write when perWrite is set, so a
	// command and its reply, or one data block, each get the full timeout.
	timeout  time.Duration
	perWrite bool
	deadline time.Time

	// writeFailed records a failed write since the last arm, which tells
	// a lost final "." apart from a lost reply to it.
	writeFailed bool
}

// arm sets a deadline of timeout from now. With perWrite, every later write
// moves the deadline to timeout after that write.
func (c *phaseConn) arm(timeout time.Duration, perWrite bool) {
	c.timeout = timeout
	c.perWrite = perWrite
	c.writeFailed = false
	c.deadline = time.Now().Add(timeout)
	_ = c.Conn.SetDeadline(c.deadline)
}

// expired reports whether the armed deadline has passed. A reply cut short
// by the deadline can surface as a malformed line rather than a timeout,
// because bufio hands back the partial line first.
func (c *phaseConn) expired() bool {
	return !c.deadline.IsZero() && !time.Now().Before(c.deadline)
}

func (c *phaseConn) Write(p []byte) (int, error) {
	if c.perWrite {
		c.deadline = time.Now().Add(c.timeout)
		_ = c.Conn.SetDeadline(c.deadline)
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		c.writeFailed = true
	}
	return n, err
}

// SetDeadline ignores deadlines set by go-smtp or crypto/tls; see phaseConn.
func (c *phaseConn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline ignores deadlines set by go-smtp or crypto/tls.
func (c *phaseConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline ignores deadlines set by go-smtp or crypto/tls.
func (c *phaseConn) SetWriteDeadline(time.Time) error { return nil }

// replayConn hands go-smtp a session whose greeting was already read.
//
// go-smtp's client begins by reading a 220 greeting. The relay sends its
// greeting once, before STARTTLS, and this package reads it itself so that
// the plaintext part of the session (greeting, EHLO, STARTTLS) is under its
// own control and nothing else can be sent in clear. The TLS session is
// then handed to go-smtp with a local 220 line in front; nothing is written
// to the wire for it.
type replayConn struct {
	net.Conn
	pending []byte
}

func newReplayConn(c net.Conn) *replayConn {
	return &replayConn{Conn: c, pending: []byte("220 greeting already received\r\n")}
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
