package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/gateway/compliance"
	"github.com/sealpost/sealpost/gateway/store"
)

// runConsent and runSuppressions export compliance records from the
// console; each export is itself an audit event.
func runConsent(ctx context.Context, e *env, args []string) error {
	return runExport(ctx, e, args, "consent", "consents", compliance.ExportConsents)
}

func runSuppressions(ctx context.Context, e *env, args []string) error {
	return runExport(ctx, e, args, "suppressions", "suppressions", compliance.ExportSuppressions)
}

func runExport(ctx context.Context, e *env, args []string, command, what string,
	write func(context.Context, *store.DB, store.ExportFilter, string, io.Writer) (int, error),
) error {
	usage := "usage: sealpost " + command +
		" export [--format ndjson|csv] [--since T] [--until T] [--email ADDRESS]"
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	fs := e.flags(command + " export")
	format := fs.String("format", "ndjson", "ndjson or csv")
	since := fs.String("since", "", "RFC 3339 time or date (inclusive)")
	until := fs.String("until", "", "RFC 3339 time or date (exclusive)")
	email := fs.String("email", "", "only this address")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	var f store.ExportFilter
	var err error
	if f.Since, err = parseTimeFlag(*since); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if f.Until, err = parseTimeFlag(*until); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	if *email != "" {
		if f.Address, err = compliance.Normalize(*email); err != nil {
			return fmt.Errorf("--email is not a valid address")
		}
	}
	_, db, err := e.openCurrent(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := write(ctx, db, f, *format, e.stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %d rows\n", n)
	return audit.AppendNow(ctx, db, audit.Event{Actor: "console", Action: "export." + what,
		ObjectType: "export", ObjectID: what, Details: compliance.ExportDetails(*format, n, f)})
}
