package store

import "errors"

var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")

	// ErrConflict means a unique constraint refused the write.
	ErrConflict = errors.New("conflict")

	// ErrSchemaBehind means migrations are pending; run `sealpost migrate up`.
	ErrSchemaBehind = errors.New("database schema is behind")
)
