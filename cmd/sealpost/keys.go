package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/audit"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	usage := "usage: sealpost keys create --name NAME --role ROLE[,ROLE] | list | revoke ID" +
		" | init-master | rotate-master"
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	verb := args[0]
	fs := e.flags("keys " + verb)
	name := fs.String("name", "", "create: a name for the key, e.g. the system that uses it")
	var roles []string
	fs.Func("role", "create: sender, marketer, compliance or admin (repeat or comma-separate)",
		func(s string) error { roles = append(roles, s); return nil })
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	var parsed []apikey.Role
	switch verb {
	case "create":
		var err error
		parsed, err = apikey.ParseRoles(strings.Join(roles, ","))
		if err != nil || len(roles) == 0 {
			return fmt.Errorf("--role: give at least one of sender, marketer, compliance, admin")
		}
		if *name == "" {
			return fmt.Errorf(
				"--name is required: a name for the key, e.g. the system that uses it",
			)
		}
	case "list":
	case "init-master", "rotate-master":
		cfg, err := e.config(nil)
		if err != nil {
			return err
		}
		if verb == "init-master" {
			return initMaster(e, cfg)
		}
		return rotateMaster(ctx, e, cfg)
	case "revoke":
		if fs.NArg() != 1 {
			fmt.Fprintln(e.stderr, "usage: sealpost keys revoke ID")
			return errUsage
		}
	default:
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	_, db, err := e.openCurrent(ctx)
	if err != nil {
		return err
	}
	defer db.Close()

	switch verb {
	case "create":
		text, k, err := apikey.Create(ctx, db, *name, parsed)
		if err != nil {
			return err
		}
		fmt.Fprintf(
			e.stderr,
			"created key %s (%s); it is shown once, store it now:\n",
			k.ID,
			strings.Join(k.Roles, ","),
		)
		if err := audit.AppendNow(ctx, db, audit.Event{Actor: "console", Action: "key.created",
			ObjectType: "api_key", ObjectID: k.ID}); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, text)
	case "list":
		keys, err := db.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLES\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Roles, ","),
				k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if err := db.RevokeAPIKey(ctx, fs.Arg(0), time.Now()); err != nil {
			return fmt.Errorf("no active key has that id")
		}
		if err := audit.AppendNow(ctx, db, audit.Event{Actor: "console", Action: "key.revoked",
			ObjectType: "api_key", ObjectID: fs.Arg(0)}); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s (takes effect within %s in running gateways)\n",
			fs.Arg(0), apikey.CacheTTL)
	}
	return nil
}
