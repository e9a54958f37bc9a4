package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/sealpost/sealpost/dkim"
)

func runDKIM(_ context.Context, e *env, args []string) error {
	usage := "usage: sealpost dkim keygen --domain D --selector S [--algorithm rsa|ed25519] | " +
		"list [--json]"
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	verb := args[0]
	fs := e.flags("dkim " + verb)
	domain := fs.String("domain", "", "keygen: signing domain (d=)")
	selector := fs.String("selector", "", "keygen: selector (s=)")
	algorithm := fs.String("algorithm", "rsa", "keygen: rsa (2048-bit) or ed25519")
	asJSON := fs.Bool("json", false, "list: print JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := e.config(nil)
	if err != nil {
		return err
	}
	ks, err := dkim.OpenKeystore(cfg.DKIMDir)
	if err != nil {
		return err
	}

	switch verb {
	case "keygen":
		alg, err := dkim.ParseAlgorithm(*algorithm)
		if err != nil {
			return err
		}
		if *domain == "" || *selector == "" {
			return fmt.Errorf("--domain and --selector are required")
		}
		k, err := dkim.Generate(alg, *domain, *selector)
		if err != nil {
			return err
		}
		if err := ks.Save(k); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "stored %s key for %s in %s; publish this DNS record:\n",
			k.Algorithm, k.RecordName(), ks.Dir())
		fmt.Fprintln(e.stdout, k.ZoneRecord())
	case "list":
		keys, err := ks.List()
		if err != nil {
			return err
		}
		if *asJSON {
			type row struct {
				Domain    string `json:"domain"`
				Selector  string `json:"selector"`
				Algorithm string `json:"algorithm"`
				Record    string `json:"record_name"`
				TXT       string `json:"txt"`
			}
			out := []row{}
			for _, k := range keys {
				out = append(
					out,
					row{k.Domain, k.Selector, string(k.Algorithm), k.RecordName(), k.TXTRecord()},
				)
			}
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(keys) == 0 {
			fmt.Fprintf(
				e.stderr,
				"no DKIM keys in %s (set --data-dir or SEALPOST_DKIM_DIR)\n",
				ks.Dir(),
			)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DOMAIN\tSELECTOR\tALGORITHM\tTXT")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Domain, k.Selector, k.Algorithm, k.TXTRecord())
		}
		return tw.Flush()
	default:
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	return nil
}
