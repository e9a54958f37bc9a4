package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
)

// runRetention prints, per kind of data, the policy and the age of the
// oldest row, so anyone can see that nothing is kept past its window.
func runRetention(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprintln(e.stderr, "usage: sealpost retention status")
		return errUsage
	}
	fs := e.flags("retention status")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, db, err := e.openCurrent(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	status, err := db.RetentionStatus(ctx, store.Retention{Messages: cfg.RetainMessages,
		Records: cfg.RetainRecords})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tROWS\tOLDEST\tPOLICY")
	now := time.Now()
	for _, k := range status {
		oldest := "-"
		if k.Oldest != nil {
			oldest = age(now.Sub(*k.Oldest))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", k.Kind, k.Rows, oldest, k.Policy)
	}
	return tw.Flush()
}

// age renders a duration as the largest sensible unit; a negative age (an
// expiry still ahead) reads "in 3h".
func age(d time.Duration) string {
	prefix, suffix := "", " ago"
	if d < 0 {
		d, prefix, suffix = -d, "in ", ""
	}
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%s%dd%s", prefix, int(d.Hours()/24), suffix)
	case d >= time.Hour:
		return fmt.Sprintf("%s%dh%s", prefix, int(d.Hours()), suffix)
	default:
		return fmt.Sprintf("%s%dm%s", prefix, int(d.Minutes()), suffix)
	}
}
