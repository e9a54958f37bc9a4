package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sealpost/sealpost/gateway/audit"
)

// runAudit verifies, exports and checkpoints the audit chain.
func runAudit(ctx context.Context, e *env, args []string) error {
	usage := "usage: sealpost audit verify [--head FILE] | export [--since T] [--until T] " +
		"[--format ndjson|csv] | head [--out FILE]"
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	verb := args[0]
	fs := e.flags("audit " + verb)
	headFile := fs.String("head", "", "verify: a head file written earlier (catches truncation)")
	out := fs.String("out", "", "head: where to write the head (default SEALPOST_AUDIT_HEAD_FILE)")
	since := fs.String("since", "", "export: RFC 3339 time or date (inclusive)")
	until := fs.String("until", "", "export: RFC 3339 time or date (exclusive)")
	format := fs.String("format", "ndjson", "export: ndjson or csv")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, db, err := e.openCurrent(ctx)
	if err != nil {
		return err
	}
	defer db.Close()

	switch verb {
	case "verify":
		var report *audit.Report
		if *headFile != "" {
			head, err := audit.ReadHead(*headFile)
			if err != nil {
				return err
			}
			report, err = audit.VerifyAgainst(ctx, db, head)
			if err != nil {
				return err
			}
		} else if report, err = audit.Verify(ctx, db); err != nil {
			return err
		}
		if !report.OK {
			fmt.Fprintf(e.stdout, "BROKEN at event %d: %s (%d events checked)\n", report.FirstBad,
				report.Reason, report.Events)
			return errFindings
		}
		fmt.Fprintf(e.stdout, "OK: %d events, head %d %s\n", report.Events, report.HeadSeq,
			hex.EncodeToString(report.Head))
	case "export":
		from, err := parseTimeFlag(*since)
		if err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		to, err := parseTimeFlag(*until)
		if err != nil {
			return fmt.Errorf("--until: %w", err)
		}
		n, err := audit.Export(ctx, db, from, to, *format, e.stdout)
		if err != nil {
			return err
		}
		err = audit.AppendNow(ctx, db, audit.Event{Actor: "console", Action: "export.audit",
			ObjectType: "audit", ObjectID: *format, Details: map[string]string{"events": fmt.Sprint(n)}})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "exported %d events\n", n)
	case "head":
		path := *out
		if path == "" {
			path = cfg.AuditHeadFile
		}
		if err := audit.WriteHead(ctx, db, path); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote the audit head to %s\n", path)
	default:
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	return nil
}

func parseTimeFlag(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("use an RFC 3339 time or a date such as 2026-12-01")
}
