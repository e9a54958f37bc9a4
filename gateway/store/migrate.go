package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/sealpost/sealpost/migrations"
)

// MigrationStatus is one line of `sealpost migrate status`.
type MigrationStatus struct {
	Line    string // "sealpost" or "river"
	Version int
	Name    string
	Applied bool
}

const createMigrationTable = `CREATE TABLE IF NOT EXISTS sealpost_migration (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at text NOT NULL
)`

// MigrateUp applies River's pending migrations, then Sealpost's, and returns
// the versions it applied.
func (db *DB) MigrateUp(ctx context.Context) ([]MigrationStatus, error) {
	var done []MigrationStatus
	riverDone, err := db.riverMigrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate river up: %w", err)
	}
	done = append(done, riverDone...)

	all, err := migrations.All(db.dialect)
	if err != nil {
		return nil, err
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		err := db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.ex.exec(ctx, m.Up); err != nil {
				return err
			}
			_, err := tx.ex.exec(ctx, db.rebind(
				"INSERT INTO sealpost_migration (version, name, applied_at) VALUES ($1, $2, $3)"),
				m.Version, m.Name, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migrate %04d_%s up: %w", m.Version, m.Name, err)
		}
		done = append(
			done,
			MigrationStatus{Line: "sealpost", Version: m.Version, Name: m.Name, Applied: true},
		)
	}
	return done, nil
}

// MigrateDown reverts Sealpost's newest `steps` migrations. With all set it
// reverts every Sealpost migration and then River's, leaving an empty schema.
func (db *DB) MigrateDown(ctx context.Context, steps int, all bool) ([]MigrationStatus, error) {
	migs, err := migrations.All(db.dialect)
	if err != nil {
		return nil, err
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}

	var done []MigrationStatus
	for i := len(migs) - 1; i >= 0 && (all || len(done) < steps); i-- {
		m := migs[i]
		if !applied[m.Version] {
			continue
		}
		err := db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.ex.exec(ctx, m.Down); err != nil {
				return err
			}
			_, err := tx.ex.exec(
				ctx,
				db.rebind("DELETE FROM sealpost_migration WHERE version = $1"),
				m.Version,
			)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migrate %04d_%s down: %w", m.Version, m.Name, err)
		}
		done = append(done, MigrationStatus{Line: "sealpost", Version: m.Version, Name: m.Name})
	}
	if !all {
		return done, nil
	}

	if _, err := db.ex.exec(ctx, "DROP TABLE IF EXISTS sealpost_migration"); err != nil {
		return done, fmt.Errorf("drop migration table: %w", err)
	}
	riverDone, err := db.riverMigrate(
		ctx,
		rivermigrate.DirectionDown,
		&rivermigrate.MigrateOpts{TargetVersion: -1},
	)
	if err != nil {
		return done, fmt.Errorf("migrate river down: %w", err)
	}
	return append(done, riverDone...), nil
}

// MigrationStatus lists every known migration of both lines and whether it
// has been applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	var out []MigrationStatus
	riverAll, riverApplied, err := db.riverVersions(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range riverAll {
		out = append(
			out,
			MigrationStatus{
				Line:    "river",
				Version: m.Version,
				Name:    m.Name,
				Applied: riverApplied[m.Version],
			},
		)
	}

	migs, err := migrations.All(db.dialect)
	if err != nil {
		return nil, err
	}
	applied, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range migs {
		out = append(
			out,
			MigrationStatus{
				Line:    "sealpost",
				Version: m.Version,
				Name:    m.Name,
				Applied: applied[m.Version],
			},
		)
	}
	return out, nil
}

// CheckSchema returns ErrSchemaBehind when any migration is pending.
func (db *DB) CheckSchema(ctx context.Context) error {
	status, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	pending := 0
	for _, s := range status {
		if !s.Applied {
			pending++
		}
	}
	if pending > 0 {
		noun := "migrations are"
		if pending == 1 {
			noun = "migration is"
		}
		return fmt.Errorf(
			"%w: %d %s pending; run `sealpost migrate up`",
			ErrSchemaBehind,
			pending,
			noun,
		)
	}
	return nil
}

func (db *DB) rebind(q string) string {
	if db.dialect == migrations.SQLite {
		return placeholderRE.ReplaceAllString(q, "?$1")
	}
	return q
}

func (db *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	if _, err := db.ex.exec(ctx, createMigrationTable); err != nil {
		return nil, fmt.Errorf("create migration table: %w", err)
	}
	rs, err := db.ex.query(ctx, "SELECT version FROM sealpost_migration")
	if err != nil {
		return nil, fmt.Errorf("read migration table: %w", err)
	}
	defer rs.Close()
	out := map[int]bool{}
	for rs.Next() {
		var v int
		if err := rs.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rs.Err()
}

// riverMigrator hides River's generic migrator behind the two calls we use.
type riverMigrator interface {
	migrate(
		ctx context.Context,
		dir rivermigrate.Direction,
		opts *rivermigrate.MigrateOpts,
	) (*rivermigrate.MigrateResult, error)
	all() []rivermigrate.Migration
	existing(ctx context.Context) ([]rivermigrate.Migration, error)
}

type typedMigrator[TTx any] struct{ m *rivermigrate.Migrator[TTx] }

func (t typedMigrator[TTx]) migrate(ctx context.Context, dir rivermigrate.Direction,
	opts *rivermigrate.MigrateOpts,
) (*rivermigrate.MigrateResult, error) {
	return t.m.Migrate(ctx, dir, opts)
}
func (t typedMigrator[TTx]) all() []rivermigrate.Migration { return t.m.AllVersions() }
func (t typedMigrator[TTx]) existing(ctx context.Context) ([]rivermigrate.Migration, error) {
	return t.m.ExistingVersions(ctx)
}

func (db *DB) riverMigrator() (riverMigrator, error) {
	cfg := &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
	if db.pool != nil {
		m, err := rivermigrate.New(riverpgxv5.New(db.pool), cfg)
		return typedMigrator[pgxTx]{m}, err
	}
	m, err := rivermigrate.New(riversqlite.New(db.sqlDB), cfg)
	return typedMigrator[sqlTx]{m}, err
}

func (db *DB) riverMigrate(ctx context.Context, dir rivermigrate.Direction,
	opts *rivermigrate.MigrateOpts,
) ([]MigrationStatus, error) {
	m, err := db.riverMigrator()
	if err != nil {
		return nil, err
	}
	res, err := m.migrate(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	var out []MigrationStatus
	for _, v := range res.Versions {
		out = append(
			out,
			MigrationStatus{
				Line:    "river",
				Version: v.Version,
				Name:    v.Name,
				Applied: dir == rivermigrate.DirectionUp,
			},
		)
	}
	return out, nil
}

func (db *DB) riverVersions(ctx context.Context) ([]rivermigrate.Migration, map[int]bool, error) {
	m, err := db.riverMigrator()
	if err != nil {
		return nil, nil, err
	}
	applied := map[int]bool{}
	existing, err := m.existing(ctx)
	if err != nil {
		// Before River's first migration its table does not exist.
		existing = nil
	}
	for _, e := range existing {
		applied[e.Version] = true
	}
	return m.all(), applied, nil
}
