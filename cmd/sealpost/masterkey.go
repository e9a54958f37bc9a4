package main

import (
	"context"
	"fmt"
	"os"

	"github.com/sealpost/sealpost/gateway/app"
	"github.com/sealpost/sealpost/gateway/config"
	"github.com/sealpost/sealpost/gateway/portal"
	"github.com/sealpost/sealpost/gateway/sealed"
)

// initMaster creates the master key and portal secret files if missing.
func initMaster(e *env, cfg *config.Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	if err := app.EnsureMasterKey(cfg.MasterKeyFile, cfg.PortalSecretFile); err != nil {
		return err
	}
	kr, err := sealed.LoadKeyring(cfg.MasterKeyFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(
		e.stdout,
		"master key %s in %s; portal secret in %s\n",
		kr.KeyID(),
		cfg.MasterKeyFile,
		cfg.PortalSecretFile,
	)
	return nil
}

// rotateMaster adds a new current master key and re-wraps every stored
// payload's data key under it, without decrypting any payload.
func rotateMaster(ctx context.Context, e *env, cfg *config.Config) error {
	kr, err := sealed.LoadKeyring(cfg.MasterKeyFile)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	secret, err := portal.LoadOrCreateSecret(cfg.PortalSecretFile)
	if err != nil {
		return err
	}
	db, err := e.openDB(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	newID, err := kr.AddKey(cfg.MasterKeyFile)
	if err != nil {
		return fmt.Errorf("add master key: %w", err)
	}
	p, err := portal.New(portal.Config{DB: db, KEK: kr, Secret: secret})
	if err != nil {
		return err
	}
	n, err := p.RotateMaster(ctx)
	if err != nil {
		return fmt.Errorf("re-wrap payload keys (run again to finish): %w", err)
	}
	fmt.Fprintf(e.stdout, "new master key %s; re-wrapped %d payload keys. "+
		"Restart running gateways so they load it.\n", newID, n)
	return nil
}
