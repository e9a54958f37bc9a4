package audit

import "errors"

var (
	// ErrInvalidEvent means an event lacks a required field or exceeds a
	// limit.
	ErrInvalidEvent = errors.New("invalid audit event")

	// ErrUnknownFormat means an export format other than "ndjson" or "csv".
	ErrUnknownFormat = errors.New("unknown export format")

	// ErrChainBroken means the chain failed verification; no head is written
	// for a broken chain.
	ErrChainBroken = errors.New("audit chain is broken")

	// ErrBadHeadFile means a head file could not be parsed.
	ErrBadHeadFile = errors.New("malformed audit head file")
)
