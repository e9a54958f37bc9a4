package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sealpost/sealpost/templates"
)

// errFindings makes lint exit 1 when a file has problems.
var errFindings = errors.New("problems found")

// runLint lints template files offline, as teams do in their own CI. Exit
// status: 0 clean, 1 problems found, 2 a file could not be read or bad usage.
func runLint(_ context.Context, e *env, args []string) error {
	fs := e.flags("lint")
	asJSON := fs.Bool("json", false, "print problems as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "usage: sealpost lint [--json] FILE...")
		return errUsage
	}
	type fileResult struct {
		File     string              `json:"file"`
		Problems []templates.Problem `json:"problems"`
	}
	var results []fileResult
	found := false
	for _, path := range fs.Args() {
		probs, err := templates.LintFile(path)
		if err != nil {
			fmt.Fprintf(e.stderr, "sealpost lint: %s: cannot read the file\n", safeArg(path))
			return errUsage
		}
		if probs == nil {
			probs = []templates.Problem{}
		}
		found = found || len(probs) > 0
		results = append(results, fileResult{File: path, Problems: probs})
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			for _, p := range r.Problems {
				var loc string
				if p.Line > 0 {
					loc = fmt.Sprintf("%s:%s:%d:%d", r.File, p.Field, p.Line, p.Column)
				} else {
					loc = fmt.Sprintf("%s:%s", r.File, p.Field)
				}
				rule := ""
				if p.Rule != "" {
					rule = " [" + p.Rule + "]"
				}
				fmt.Fprintf(e.stdout, "%s: %s%s\n", loc, p.Detail, rule)
			}
		}
	}
	if found {
		return errFindings
	}
	return nil
}
