package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: sealpost migrate up|down [--steps N|--all]|status")
		return errUsage
	}
	verb := args[0]
	fs := e.flags("migrate " + verb)
	steps := fs.Int("steps", 1, "down: how many Sealpost migrations to revert")
	all := fs.Bool("all", false, "down: revert every migration, River's too")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := e.config(nil)
	if err != nil {
		return err
	}
	db, err := e.openDB(ctx, cfg, verb == "up")
	if err != nil {
		return err
	}
	defer db.Close()

	switch verb {
	case "up":
		done, err := db.MigrateUp(ctx)
		for _, m := range done {
			fmt.Fprintf(e.stdout, "applied %s %03d %s\n", m.Line, m.Version, m.Name)
		}
		if err != nil {
			return err
		}
		if len(done) == 0 {
			fmt.Fprintln(e.stdout, "already up to date")
		}
	case "down":
		if *steps < 1 && !*all {
			return fmt.Errorf("--steps must be at least 1")
		}
		stepsSet := false
		fs.Visit(func(f *flag.Flag) { stepsSet = stepsSet || f.Name == "steps" })
		if stepsSet && *all {
			return fmt.Errorf("give --steps or --all, not both")
		}
		done, err := db.MigrateDown(ctx, *steps, *all)
		for _, m := range done {
			fmt.Fprintf(e.stdout, "reverted %s %03d %s\n", m.Line, m.Version, m.Name)
		}
		if err != nil {
			return err
		}
		if len(done) == 0 {
			fmt.Fprintln(e.stdout, "nothing to revert")
		}
	case "status":
		status, err := db.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LINE\tVERSION\tNAME\tAPPLIED")
		for _, s := range status {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%v\n", s.Line, s.Version, s.Name, s.Applied)
		}
		return tw.Flush()
	default:
		fmt.Fprintln(e.stderr, "usage: sealpost migrate up|down [--steps N|--all]|status")
		return errUsage
	}
	return nil
}
