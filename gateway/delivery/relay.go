package delivery

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
)

// Relay sends messages to one configured relay over a pool of TLS
// connections. It is safe for concurrent use.
type Relay struct {
	cfg       Config
	addr      string
	tlsConfig *tls.Config
	logger    *slog.Logger

	// slots holds one token per connection in use; its capacity is
	// MaxConns, so idle plus busy connections never exceed it.
	slots chan struct{}

	mu      sync.Mutex
	idle    []*session // most recently used last
	closed  bool
	janitor *time.Timer
	pruning sync.WaitGroup
}

// NewRelay validates cfg, applies defaults and returns a Relay. No
// connection is made until the first Send.
func NewRelay(cfg Config, logger *slog.Logger) (*Relay, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	return &Relay{
		cfg:  cfg,
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		tlsConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			RootCAs:            cfg.RootCAs,
			ServerName:         cfg.ServerName,
			ClientSessionCache: tls.NewLRUClientSessionCache(cfg.MaxConns),
		},
		logger: logger.With("relay", cfg),
		slots:  make(chan struct{}, cfg.MaxConns),
	}, nil
}

// Send delivers msg to the relay for the envelope's recipients and returns
// the relay's acceptance. msg must be the finished message with CRLF line
// endings; it is sent byte for byte.
//
// Send honours ctx: cancellation closes the connection at once. Each phase
// has its own deadline from Config, and the whole call is bounded by
// Config.SendTimeout. Any failure is an *Error; a connection that failed is
// never reused.
func (r *Relay) Send(ctx context.Context, env Envelope, msg []byte) (*Receipt, error) {
	if err := checkEnvelope(env); err != nil {
		return nil, &Error{Phase: PhaseMessage, Err: err}
	}
	if err := checkMessage(msg); err != nil {
		return nil, &Error{Phase: PhaseMessage, Err: err}
	}

	ctx, cancel := context.WithTimeout(ctx, r.cfg.SendTimeout)
	defer cancel()

	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &Error{Phase: PhaseDial, Temporary: true, Err: ctx.Err()}
	}
	defer func() { <-r.slots }()

	s, reused, err := r.checkout(ctx)
	if err != nil {
		return nil, err
	}

	stop := context.AfterFunc(ctx, func() { _ = s.conn.Close() })
	receipt, err := r.deliver(ctx, s, env, msg)
	if !stop() {
		// Cancelled, possibly just as the reply arrived: the connection is
		// closed either way.
		s.broken = true
	}
	r.checkin(s, err)
	if err != nil {
		return nil, err
	}

	receipt.Reused = reused
	return receipt, nil
}

// checkout returns a pooled session readied with RSET, or a new one. A
// pooled session that fails RSET is discarded and replaced; nothing of the
// message was sent on it.
func (r *Relay) checkout(ctx context.Context) (*session, bool, error) {
	for {
		s, err := r.takeIdle()
		if err != nil {
			return nil, false, err
		}
		if s == nil {
			break
		}
		stop := context.AfterFunc(ctx, func() { _ = s.conn.Close() })
		err = r.reset(ctx, s)
		stop()
		if err == nil {
			return s, true, nil
		}
		_ = s.client.Close()
		if ctx.Err() != nil {
			return nil, false, err
		}
	}

	s, err := r.open(ctx)
	return s, false, err
}

// takeIdle pops the most recently used idle session, closing any that have
// idled too long.
func (r *Relay) takeIdle() (*session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	if r.closed {
		return nil, &Error{Phase: PhaseDial, Temporary: true, Err: ErrClosed}
	}
	for len(r.idle) > 0 {
		s := r.idle[len(r.idle)-1]
		r.idle = r.idle[:len(r.idle)-1]
		if time.Since(s.idleSince) < r.cfg.IdleTimeout {
			return s, nil
		}
		_ = s.client.Close()
	}
	return nil, nil
}

// checkin returns a healthy session to the pool, or retires it.
func (r *Relay) checkin(s *session, err error) {
	if s.broken {
		_ = s.client.Close()
		return
	}
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code != 0 {
			// The relay refused politely; the connection is sound enough
			// for QUIT but is still not reused.
			r.quit(s)
			return
		}
		_ = s.client.Close()
		return
	}
	if s.sent >= r.cfg.MaxMessagesPerConn {
		r.quit(s)
		return
	}

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.quit(s)
		return
	}
	s.idleSince = time.Now()
	r.idle = append(r.idle, s)
	if r.janitor == nil {
		r.janitor = time.AfterFunc(r.cfg.IdleTimeout, r.pruneIdle)
	}
	r.mu.Unlock()
}

// pruneIdle retires sessions idle for IdleTimeout and re-arms itself while
// any remain.
func (r *Relay) pruneIdle() {
	r.mu.Lock()
	r.janitor = nil
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.pruning.Add(1)
	defer r.pruning.Done()

	var stale []*session
	keep := r.idle[:0]
	for _, s := range r.idle {
		if time.Since(s.idleSince) >= r.cfg.IdleTimeout {
			stale = append(stale, s)
		} else {
			keep = append(keep, s)
		}
	}
	r.idle = keep
	if len(keep) > 0 {
		next := r.cfg.IdleTimeout - time.Since(keep[0].idleSince)
		r.janitor = time.AfterFunc(next, r.pruneIdle)
	}
	r.mu.Unlock()

	for _, s := range stale {
		r.quit(s)
	}
}

// Close retires idle connections with a polite QUIT under a short deadline.
// Connections busy in Send are closed when that Send returns. Send fails
// with ErrClosed afterwards.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	if r.janitor != nil {
		r.janitor.Stop()
		r.janitor = nil
	}
	idle := r.idle
	r.idle = nil
	r.mu.Unlock()

	var wg sync.WaitGroup
	for _, s := range idle {
		wg.Go(func() { r.quit(s) })
	}
	wg.Wait()
	r.pruning.Wait()
	return nil
}
