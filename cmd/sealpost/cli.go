package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/sealpost/sealpost/gateway/config"
	"github.com/sealpost/sealpost/gateway/store"
)

// command is one subcommand.
type command struct {
	name  string
	usage string
	help  string
	run   func(ctx context.Context, env *env, args []string) error
}

// env is what every subcommand gets: output streams and common flags.
type env struct {
	stdout, stderr io.Writer
	configFile     string
	dataDir        string
}

// errUsage means the arguments were wrong; the usage has been printed.
var errUsage = errors.New("usage")

func commands() []command {
	return []command{
		{"dev", "dev [--data-dir DIR] [--http ADDR] [--smtp ADDR]",
			"run the whole gateway locally: SQLite, example templates, a capture inbox", runDev},
		{"serve", "serve [--config FILE] [--data-dir DIR]",
			"run the gateway in production (PostgreSQL or SQLite, a real relay)", runServe},
		{"migrate", "migrate up | down [--steps N | --all] | status",
			"apply migrations, revert the newest N (default 1) or all of them, or list them", runMigrate},
		{
			"keys",
			"keys create --name NAME --role ROLE[,ROLE] | list | revoke ID | init-master | " +
				"rotate-master",
			"manage API keys (roles: sender, marketer, compliance, admin) and the master key",
			runKeys,
		},
		{"dkim", "dkim keygen --domain D --selector S [--algorithm rsa|ed25519] | list [--json]",
			"manage DKIM signing keys", runDKIM},
		{
			"audit",
			"audit verify [--head FILE] | export [--since T] [--until T] [--format " +
				"ndjson|csv] | head [--out FILE]",
			"verify the tamper-evident audit chain, export it, or write its head",
			runAudit,
		},
		{
			"consent",
			"consent export [--format ndjson|csv] [--since T] [--until T] [--email ADDRESS]",
			"export consent history with its evidence",
			runConsent,
		},
		{
			"suppressions",
			"suppressions export [--format ndjson|csv] [--since T] [--until T] [--email ADDRESS]",
			"export suppressions, removed ones included",
			runSuppressions,
		},
		{"retention", "retention status",
			"show, per kind of data, its retention policy and its oldest row", runRetention},
		{"lint", "lint [--json] FILE...",
			"lint template files for health information offline (exit 1 when anything is found)", runLint},
		{"bench", "bench [--messages N] [--concurrency C] [--database sqlite|postgres]",
			"measure the running pipeline: API -> queue -> TLS SMTP sink", runBench},
		{
			"config",
			"config [--config FILE]",
			"print the effective configuration (secrets hidden)",
			runConfig,
		},
		{"version", "version", "print the version", runVersion},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		e := &env{stdout: stdout, stderr: stderr}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.Is(err, errFindings):
			return 1
		default:
			fmt.Fprintf(stderr, "sealpost %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "sealpost: unknown command %q; run `sealpost help`\n", safeArg(args[0]))
	return 2
}

// safeArg keeps an echoed argument printable and short.
func safeArg(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "sealpost — a HIPAA-aware gateway for transactional email")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  sealpost %s\n      %s\n", c.usage, c.help)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command also takes --config FILE (NAME=value lines) and --help.")
	fmt.Fprintln(w, "Every command that touches data takes --data-dir (default ./sealpost-data, or")
	fmt.Fprintln(w, "SEALPOST_DATA_DIR) for the embedded database, or uses SEALPOST_DATABASE_URL")
	fmt.Fprintln(w, "for PostgreSQL. Settings (environment, or --config FILE of NAME=value lines):")
	for _, o := range config.Options {
		def := o.Default
		if def == "" {
			def = "unset"
		}
		secret := ""
		if o.Secret {
			secret = " (secret; also " + o.Env + "_FILE)"
		}
		fmt.Fprintf(w, "  %s  default %s%s\n      %s\n", o.Env, def, secret, o.Help)
	}
}

// flags returns a flag set with the common --config and --data-dir flags.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("sealpost "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.configFile, "config", "", "file of SEALPOST_NAME=value settings")
	fs.StringVar(
		&e.dataDir,
		"data-dir",
		"",
		"data directory (default ./sealpost-data or SEALPOST_DATA_DIR)",
	)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	return nil
}

// config loads settings with the flags that override them.
func (e *env) config(overrides map[string]string) (*config.Config, error) {
	if overrides == nil {
		overrides = map[string]string{}
	}
	if e.dataDir != "" {
		overrides["SEALPOST_DATA_DIR"] = e.dataDir
	}
	return config.Load(e.configFile, overrides)
}

// openDB opens the database the configuration names. Unless create is set,
// a missing embedded database is an error rather than a new empty file.
func (e *env) openDB(ctx context.Context, cfg *config.Config, create bool) (*store.DB, error) {
	if cfg.DatabaseURL == "" && !create {
		file := filepath.Join(cfg.DataDir, store.SQLiteFileName)
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf(
				"no database in %s; run `sealpost migrate up` (or `sealpost dev`) "+
					"with this data directory first, or set SEALPOST_DATABASE_URL",
				cfg.DataDir,
			)
		}
	}
	return store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
}

// openCurrent loads the configuration and opens its existing database,
// refusing one whose schema is behind. The caller closes the database.
func (e *env) openCurrent(ctx context.Context) (*config.Config, *store.DB, error) {
	cfg, err := e.config(nil)
	if err != nil {
		return nil, nil, err
	}
	db, err := e.openDB(ctx, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return cfg, db, nil
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := e.flags("version")
	if err := parse(fs, args); err != nil {
		return err
	}
	version, revision := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = " " + s.Value
			}
		}
	}
	fmt.Fprintf(e.stdout, "sealpost %s%s\n", version, revision)
	return nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runConfig(_ context.Context, e *env, args []string) error {
	fs := e.flags("config")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.config(nil)
	if err != nil {
		return err
	}
	for _, line := range cfg.Describe(e.configFile) {
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}
