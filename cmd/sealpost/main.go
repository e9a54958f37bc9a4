// Command sealpost is the Sealpost gateway: one binary that runs the
// gateway (`dev`, `serve`) and administers it (`migrate`, `keys`, `dkim`,
// `bench`). Run `sealpost help` for the list.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
