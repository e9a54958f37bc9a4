package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/sealpost/sealpost/migrations"
)

// SQLiteFileName is the embedded database's file inside the data directory.
const SQLiteFileName = "sealpost.db"

// DB is an open Sealpost database: a pgx pool for PostgreSQL, or a
// single-connection database/sql handle for SQLite (SQLite allows one writer
// at a time, and River advises one connection).
type DB struct {
	queries

	dialect migrations.Dialect
	pool    *pgxpool.Pool
	sqlDB   *sql.DB
}

// Open connects to databaseURL when it is a postgres:// URL, and otherwise to
// the SQLite file in dataDir, creating the directory (mode 0700) when needed.
// It does not migrate; see Migrate.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	if databaseURL != "" {
		if !strings.HasPrefix(databaseURL, "postgres://") &&
			!strings.HasPrefix(databaseURL, "postgresql://") {
			return nil, errors.New("open database: database URL must start with postgres:// " +
				"(leave it unset for the embedded SQLite database)")
		}
		return openPostgres(ctx, databaseURL)
	}
	return openSQLite(ctx, dataDir)
}

func openPostgres(ctx context.Context, databaseURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, errors.New("open database: cannot parse the PostgreSQL URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", redactPgError(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database: %w", redactPgError(err))
	}
	db := &DB{dialect: migrations.Postgres, pool: pool}
	db.queries = queries{ex: pgxExecutor{pool}, text: pgQueries}
	return db, nil
}

// redactPgError keeps the useful part of a connection error without the
// connection string pgx sometimes embeds.
func redactPgError(err error) error {
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("cannot connect to PostgreSQL at %s", connErr.Config.Host)
	}
	return err
}

func openSQLite(ctx context.Context, dataDir string) (*DB, error) {
	if dataDir == "" {
		return nil, errors.New("open database: no data directory given")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open database: create data directory: %w", err)
	}
	file := filepath.Join(dataDir, SQLiteFileName)
	dsn := "file:" + file + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(ON)" +
		// Deleted rows (expired sensitive payloads) are overwritten with
		// zeros, not just unlinked, so they cannot be read from the file.
		"&_pragma=secure_delete(ON)" +
		"&_time_format=sqlite"
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	sqlDB.SetConnMaxLifetime(0)
	sqlDB.SetConnMaxIdleTime(0)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	// The database file holds message data; keep it private to its owner.
	if err := os.Chmod(file, 0o600); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := &DB{dialect: migrations.SQLite, sqlDB: sqlDB}
	db.queries = queries{ex: sqlExecutor{sqlDB}, text: sqliteQueries}
	return db, nil
}

// Dialect reports which database this is.
func (db *DB) Dialect() migrations.Dialect { return db.dialect }

// Pool returns the PostgreSQL pool, or nil on SQLite.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// SQL returns the SQLite handle, or nil on PostgreSQL.
func (db *DB) SQL() *sql.DB { return db.sqlDB }

// Close releases the database.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
		return nil
	}
	return db.sqlDB.Close()
}

// Tx is an open transaction. Raw returns the driver's own transaction
// (pgx.Tx or *sql.Tx) so River can insert or complete jobs in it.
type Tx struct {
	queries

	raw any
}

// Raw returns the underlying pgx.Tx or *sql.Tx.
func (tx *Tx) Raw() any { return tx.raw }

// InTx runs fn in a transaction, committing when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.pool != nil {
		ptx, err := db.pool.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer ptx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
		tx := &Tx{raw: ptx, queries: queries{ex: pgxExecutor{ptx}, text: db.text}}
		if err := fn(tx); err != nil {
			return err
		}
		if err := ptx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}

	stx, err := db.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer stx.Rollback() //nolint:errcheck // no-op after commit
	tx := &Tx{raw: stx, queries: queries{ex: sqlExecutor{stx}, text: db.text}}
	if err := fn(tx); err != nil {
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// queries carries the statements of one dialect and the executor they run on.
// DB and Tx embed it, so every query method works both in and out of a
// transaction.
type queries struct {
	ex   executor
	text queryText
}

func (q queries) sql(name string) string {
	s, ok := q.text[name]
	if !ok {
		panic("store: unknown query " + name)
	}
	return s
}

type scanner interface {
	Scan(dest ...any) error
}

type rows interface {
	scanner
	Next() bool
	Err() error
	Close()
}

type executor interface {
	exec(ctx context.Context, query string, args ...any) (int64, error)
	queryRow(ctx context.Context, query string, args ...any) scanner
	query(ctx context.Context, query string, args ...any) (rows, error)
}

type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

type pgxExecutor struct{ q pgxQuerier }

func (e pgxExecutor) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := e.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), mapError(err)
}

func (e pgxExecutor) queryRow(ctx context.Context, query string, args ...any) scanner {
	return pgxRow{e.q.QueryRow(ctx, query, args...)}
}

func (e pgxExecutor) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := e.q.Query(ctx, query, args...)
	if err != nil {
		return nil, mapError(err)
	}
	return pgxRows{r}, nil
}

type pgxRow struct{ r pgx.Row }

func (r pgxRow) Scan(dest ...any) error { return mapError(r.r.Scan(dest...)) }

type pgxRows struct{ pgx.Rows }

func (r pgxRows) Scan(dest ...any) error { return mapError(r.Rows.Scan(dest...)) }

type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type sqlExecutor struct{ q sqlQuerier }

func (e sqlExecutor) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := e.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapError(err)
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

func (e sqlExecutor) queryRow(ctx context.Context, query string, args ...any) scanner {
	return sqlRow{e.q.QueryRowContext(ctx, query, args...)}
}

func (e sqlExecutor) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := e.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapError(err)
	}
	return sqlRows{r}, nil
}

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error { return mapError(r.r.Scan(dest...)) }

type sqlRows struct{ r *sql.Rows }

func (r sqlRows) Scan(dest ...any) error { return mapError(r.r.Scan(dest...)) }
func (r sqlRows) Next() bool             { return r.r.Next() }
func (r sqlRows) Err() error             { return mapError(r.r.Err()) }
func (r sqlRows) Close()                 { r.r.Close() }

// mapError turns each driver's "no rows" and unique-violation errors into the
// package's sentinels.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return ErrConflict
	}
	return err
}

type (
	pgxTx = pgx.Tx
	sqlTx = *sql.Tx
)
