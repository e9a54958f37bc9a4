package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime/pprof"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealpost/sealpost/gateway/bench"
)

// defaultBenchPostgres is the PostgreSQL server bench uses when
// SEALPOST_BENCH_DATABASE_URL is unset; it creates a scratch schema there
// and drops it afterwards.
const defaultBenchPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func runBench(ctx context.Context, e *env, args []string) error {
	fs := e.flags("bench")
	messages := fs.Int("messages", 5000, "messages in the saturation run")
	concurrency := fs.Int("concurrency", 32, "concurrent HTTP clients")
	database := fs.String("database", "sqlite", "sqlite or postgres")
	paced := fs.Duration("paced", 5*time.Second, "length of the half-load run")
	workers := fs.Int("workers", 0, "delivery workers (0: the gateway's default)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	o := bench.Options{Messages: *messages, Concurrency: *concurrency, PacedFor: *paced,
		Workers: *workers, Out: e.stdout}
	switch *database {
	case "sqlite":
	case "postgres":
		base := os.Getenv("SEALPOST_BENCH_DATABASE_URL")
		if base == "" {
			base = defaultBenchPostgres
		}
		schemaURL, drop, err := scratchSchema(ctx, base)
		if err != nil {
			return err
		}
		defer drop()
		o.DatabaseURL = schemaURL
	default:
		return fmt.Errorf("--database must be sqlite or postgres")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(e.stderr, "running %d messages through the pipeline on %s…\n", *messages, *database)
	res, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	res.Print(e.stdout)
	return nil
}

// scratchSchema creates a schema for one bench run and returns a URL that
// uses it and a function that drops it.
func scratchSchema(ctx context.Context, base string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL for the bench: %w", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("sealpost_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	}
	return u.String(), drop, nil
}
