package main

import (
	"context"
	"fmt"

	"github.com/sealpost/sealpost/gateway/app"
)

func runDev(ctx context.Context, e *env, args []string) error {
	fs := e.flags("dev")
	httpAddr := fs.String("http", "", "HTTP listen address (default 127.0.0.1:8025)")
	smtpAddr := fs.String(
		"smtp",
		"",
		"capture SMTP listen address on loopback (default: a free port on 127.0.0.1)",
	)
	if err := parse(fs, args); err != nil {
		return err
	}
	overrides := map[string]string{}
	if *httpAddr != "" {
		overrides["SEALPOST_HTTP_ADDR"] = *httpAddr
	}
	cfg, err := e.config(overrides)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, e.stderr)
	a, err := app.New(
		ctx,
		app.Options{Config: cfg, Dev: true, CaptureAddr: *smtpAddr, Logger: logger, Out: e.stdout},
	)
	if err != nil {
		return err
	}
	base := "http://" + a.HTTPAddr()
	fmt.Fprintf(e.stdout, `Sealpost dev gateway
  API            %s
  API key        %s   (also in %s/%s)
  capture SMTP   %s (STARTTLS, local CA)
  inbox          %s/dev/inbox
  database       %s
Nothing leaves this machine. Ctrl-C stops.
`, base, a.DevKey(), cfg.DataDir, app.DevKeyFile, a.CaptureAddr(), base, dbName(cfg.DatabaseURL))
	return a.Run(ctx)
}

func dbName(url string) string {
	if url == "" {
		return "embedded SQLite"
	}
	return "PostgreSQL"
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := e.flags("serve")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := e.config(nil)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, e.stderr)
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: logger, Out: e.stdout})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
