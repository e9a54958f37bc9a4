// Package store owns Sealpost's own tables on PostgreSQL and SQLite: API keys,
// templates and messages. It opens the database named by the configuration,
// applies migrations (Sealpost's and River's), and runs every query through one
// small executor interface so that the same code serves both databases.
//
// SQL lives in queries/*.sql, one named statement per block, written with
// PostgreSQL's $N placeholders; for SQLite they are rewritten to ?N, which
// SQLite binds by number. Times are always passed in from Go in UTC, never
// taken from the database clock, so both databases hold the same values.
//
// The store reads River's tables only to report a job's state; the queue
// package inserts and completes jobs inside transactions the store opens.
package store
