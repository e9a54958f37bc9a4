package main

import (
	"context"
	"errors"
)

func runBench(_ context.Context, _ *env, _ []string) error {
	return errors.New("not built yet")
}
