package audit

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/sealpost/sealpost/gateway/store"
)

// pageSize is how many events Verify and Export read per query.
const pageSize = 500

// Report is the outcome of a verification.
type Report struct {
	Events   int    // events read
	OK       bool   // the whole chain verified
	FirstBad int64  // the first seq at which the chain breaks; 0 when OK
	Reason   string // why it breaks there, naming no field values
	HeadSeq  int64  // seq of the last event read; 0 for an empty chain
	Head     []byte // hash of the last event read; 32 zero bytes when empty
}

// anchor is a (seq, hash) pair recorded elsewhere that the chain must reach.
type anchor struct {
	seq     int64
	hash    []byte
	source  string
	reached bool
}

// checker follows the chain one event at a time and keeps the first break.
type checker struct {
	rep     Report
	next    int64 // the seq the next event must have; 0 until the first event
	prev    []byte
	anchors []*anchor
}

func newChecker(anchors ...*anchor) *checker {
	c := &checker{next: 1, prev: make([]byte, hashSize), anchors: anchors}
	c.rep.Head = c.prev
	for _, a := range anchors {
		a.reached = a.seq == 0 && bytes.Equal(a.hash, c.prev)
	}
	return c
}

func (c *checker) fail(seq int64, format string, args ...any) {
	if c.broken() {
		return
	}
	c.rep.FirstBad = seq
	c.rep.Reason = fmt.Sprintf(format, args...)
}

func (c *checker) broken() bool { return c.rep.Reason != "" }

// add checks e against the event before it and against the anchors.
func (c *checker) add(e *store.AuditEvent) {
	c.rep.Events++
	c.rep.HeadSeq, c.rep.Head = e.Seq, e.Hash
	if c.broken() {
		return
	}

	switch {
	case e.Seq > c.next:
		c.fail(c.next, "seq %d is missing", c.next)
	case e.Seq < c.next:
		c.fail(e.Seq, "seq %d is out of place after seq %d", e.Seq, c.next-1)
	case !bytes.Equal(e.PrevHash, c.prev):
		c.fail(e.Seq, "prev_hash of seq %d is not the hash of seq %d", e.Seq, e.Seq-1)
	case !bytes.Equal(chainHash(e), e.Hash):
		c.fail(e.Seq, "hash of seq %d does not match its fields", e.Seq)
	}
	if c.broken() {
		return
	}

	for _, a := range c.anchors {
		if a.seq != e.Seq {
			continue
		}
		a.reached = true
		if !bytes.Equal(a.hash, e.Hash) {
			c.fail(e.Seq, "hash of seq %d differs from the one the %s records", e.Seq, a.source)
		}
	}
	c.next, c.prev = e.Seq+1, e.Hash
}

// finish checks that every anchor was reached and returns the report.
func (c *checker) finish() *Report {
	for _, a := range c.anchors {
		if !a.reached {
			c.fail(c.next, "chain ends at seq %d but the %s records seq %d",
				c.next-1, a.source, a.seq)
		}
	}
	c.rep.OK = !c.broken()
	return &c.rep
}

// Verify walks the whole chain in seq order and reports the first seq at
// which it breaks. It also checks the chain against the database's head
// row, which catches a tail deleted without rewriting that row.
func Verify(ctx context.Context, db *store.DB) (*Report, error) {
	return verify(ctx, db)
}

// VerifyAgainst is Verify that also requires the chain to reach head, a
// head written earlier by WriteHead: it fails when events up to head.Seq
// were cut off or rewritten, even if the database's own head row was
// rewritten to match.
func VerifyAgainst(ctx context.Context, db *store.DB, head HeadRecord) (*Report, error) {
	return verify(ctx, db, &anchor{seq: head.Seq, hash: head.Hash, source: "head file"})
}

func verify(ctx context.Context, db *store.DB, extra ...*anchor) (*Report, error) {
	// Read the head row first: every event up to it committed before the walk
	// starts, so the walk must see them all, while events appended during the
	// walk merely extend it.
	headSeq, headHash, err := db.AuditHead(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify audit chain: %w", err)
	}
	anchors := append([]*anchor{{seq: headSeq, hash: headHash, source: "head row"}}, extra...)
	c := newChecker(anchors...)

	after := int64(math.MinInt64)
	for {
		page, err := db.ListAuditEvents(ctx, after, pageSize)
		if err != nil {
			return nil, fmt.Errorf("verify audit chain: %w", err)
		}
		for i := range page {
			c.add(&page[i])
		}
		if len(page) < pageSize {
			return c.finish(), nil
		}
		after = page[len(page)-1].Seq
	}
}
