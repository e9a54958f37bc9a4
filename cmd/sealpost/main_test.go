package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/config"
	"github.com/sealpost/sealpost/gateway/portal"
	"github.com/sealpost/sealpost/gateway/sealed"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
)

// sealpost runs the CLI in-process and returns its exit code and output.
func sealpost(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLIOnBothDatabases(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			databaseURL, dataDir := storetest.Location(t, d)
			if dataDir == "" {
				dataDir = t.TempDir()
			}
			env := map[string]string{"SEALPOST_DATABASE_URL": databaseURL}
			dd := "--data-dir=" + dataDir

			if code, _, stderr := sealpost(t, env, "serve", dd); code == 0 ||
				!strings.Contains(stderr, "sealpost migrate up") {
				t.Fatalf("serve on an empty database: code %d, %s", code, stderr)
			}
			if code, out, stderr := sealpost(t, env, "migrate", "up", dd); code != 0 ||
				!strings.Contains(out, "applied sealpost") {
				t.Fatalf("migrate up: %d %s %s", code, out, stderr)
			}
			if code, out, _ := sealpost(t, env, "migrate", "status", dd); code != 0 ||
				strings.Contains(out, "false") {
				t.Fatalf("migrate status after up: %s", out)
			}

			code, key, stderr := sealpost(
				t,
				env,
				"keys",
				"create",
				dd,
				"--name",
				"storefront",
				"--role",
				"sender,admin",
			)
			key = strings.TrimSpace(key)
			if code != 0 || !strings.HasPrefix(key, "sp_") {
				t.Fatalf("keys create: %d %q %s", code, key, stderr)
			}
			id := strings.Split(key, "_")[1]
			if code, out, _ := sealpost(t, env, "keys", "list", dd); code != 0 ||
				!strings.Contains(out, id) || strings.Contains(out, key) {
				t.Fatalf("keys list must show the id and never the key: %s", out)
			}
			if code, _, stderr := sealpost(t, env, "keys", "create", dd, "--name", "x", "--role", "root"); code == 0 {
				t.Fatalf("unknown role accepted: %s", stderr)
			}
			if code, out, _ := sealpost(t, env, "keys", "revoke", dd, id); code != 0 ||
				!strings.Contains(out, "revoked") {
				t.Fatalf("keys revoke: %s", out)
			}

			if code, out, stderr := sealpost(t, env, "migrate", "down", dd, "--all"); code != 0 ||
				!strings.Contains(out, "reverted river") {
				t.Fatalf("migrate down --all: %d %s %s", code, out, stderr)
			}
		})
	}
}

func TestDKIMCommands(t *testing.T) {
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	code, out, stderr := sealpost(
		t,
		nil,
		"dkim",
		"keygen",
		dd,
		"--domain",
		"Shop.Example.test",
		"--selector",
		"s1",
	)
	if code != 0 || !strings.Contains(out, "s1._domainkey.shop.example.test") ||
		!strings.Contains(out, "v=DKIM1; k=rsa; p=") {
		t.Fatalf("keygen: %d %s %s", code, out, stderr)
	}
	if code, _, _ := sealpost(t, nil, "dkim", "keygen", dd, "--domain", "shop.example.test", "--selector", "s2",
		"--algorithm", "ed25519"); code != 0 {
		t.Fatal("ed25519 keygen failed")
	}
	if code, _, stderr := sealpost(t, nil, "dkim", "keygen", dd, "--domain", "shop.example.test", "--selector", "s1"); code == 0 {
		t.Fatalf("keygen overwrote a key: %s", stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "dkim", "*"))
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Fatalf("key file %s mode %v", f, fi.Mode())
		}
	}
	code, out, _ = sealpost(t, nil, "dkim", "list", dd, "--json")
	var keys []map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &keys) != nil || len(keys) != 2 {
		t.Fatalf("list --json: %s", out)
	}
	for _, k := range keys {
		if k["domain"] != "shop.example.test" || !strings.HasPrefix(k["txt"], "v=DKIM1;") {
			t.Fatalf("list entry %v", k)
		}
	}
}

func TestHelpAndErrorsNeverPrintSecrets(t *testing.T) {
	env := map[string]string{"SEALPOST_RELAY_PASSWORD": "hunter2-secret",
		"SEALPOST_DATABASE_URL": "postgres://u:pw-secret@127.0.0.1:1/none"}
	for _, args := range [][]string{{"help"}, {"config"}, {"serve", "--data-dir", t.TempDir()}} {
		_, out, stderr := sealpost(t, env, args...)
		for _, secret := range []string{"hunter2-secret", "pw-secret"} {
			if strings.Contains(out+stderr, secret) {
				t.Fatalf("%v printed a secret: %s %s", args, out, stderr)
			}
		}
	}
	if code, _, stderr := sealpost(t, nil, "frobnicate\r\nx"); code != 2 ||
		strings.Contains(stderr, "\r") {
		t.Fatalf("unknown command: %d %q", code, stderr)
	}
}

// The README documents every configuration option.
func TestREADMEDocumentsEveryOption(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range config.Options {
		if !bytes.Contains(readme, []byte("`"+o.Env+"`")) {
			t.Errorf("README does not document %s", o.Env)
		}
	}
}

func TestMasterKeyRotation(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			databaseURL, dataDir := storetest.Location(t, d)
			if dataDir == "" {
				dataDir = t.TempDir()
			}
			env := map[string]string{"SEALPOST_DATABASE_URL": databaseURL}
			dd := "--data-dir=" + dataDir
			if code, _, stderr := sealpost(t, env, "migrate", "up", dd); code != 0 {
				t.Fatal(stderr)
			}
			if code, out, stderr := sealpost(t, env, "keys", "init-master", dd); code != 0 ||
				!strings.Contains(out, "master key") {
				t.Fatalf("init-master: %s %s", out, stderr)
			}
			masterFile := filepath.Join(dataDir, "master-key")
			kr, err := sealed.LoadKeyring(masterFile)
			if err != nil {
				t.Fatal(err)
			}
			oldID := kr.KeyID()
			secret, err := portal.LoadOrCreateSecret(filepath.Join(dataDir, "portal-secret"))
			if err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(ctx, databaseURL, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			p, err := portal.New(portal.Config{DB: db, KEK: kr, Secret: secret})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"m1", "m2", "m3"} {
				prep, err := p.Prepare(ctx, id, []byte(`{"items":"secret `+id+`"}`), 0, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.InTx(ctx, func(tx *store.Tx) error { return prep.Store(ctx, tx) }); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := db.GetPayload(ctx, "m2")

			code, out, stderr := sealpost(t, env, "keys", "rotate-master", dd)
			if code != 0 || !strings.Contains(out, "re-wrapped 3 payload keys") {
				t.Fatalf("rotate-master: %s %s", out, stderr)
			}
			kr2, err := sealed.LoadKeyring(masterFile)
			if err != nil || kr2.KeyID() == oldID {
				t.Fatalf("keyring after rotation: %v, current %s", err, kr2.KeyID())
			}
			after, _ := db.GetPayload(ctx, "m2")
			if after.KeyID != kr2.KeyID() || bytes.Equal(after.WrappedKey, before.WrappedKey) ||
				!bytes.Equal(after.Ciphertext, before.Ciphertext) {
				t.Fatalf("payload not re-wrapped (or its ciphertext changed): %s", after.KeyID)
			}
			plain, err := sealed.Open(ctx, kr2, "m2", &sealed.Sealed{KeyID: after.KeyID,
				WrappedKey: after.WrappedKey, Nonce: after.Nonce, Ciphertext: after.Ciphertext})
			if err != nil || string(plain) != `{"items":"secret m2"}` {
				t.Fatalf("open after rotation: %q %v", plain, err)
			}
			if code, out, _ := sealpost(t, env, "keys", "rotate-master", dd); code != 0 ||
				!strings.Contains(out, "re-wrapped 3") {
				t.Fatalf("second rotation: %s", out)
			}
		})
	}
}

func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "shipped.json")
	os.WriteFile(clean, []byte(`{"name":"shipped","subject":"Your order {{.order}} shipped",
		"text":"Hi {{.first_name}}, order {{.order}} is on its way.",
		"variables":{"order":{"type":"string"},"first_name":{"type":"string","class":"identifier"}}}`), 0o600)
	leaky := filepath.Join(dir, "leaky.json")
	os.WriteFile(leaky, []byte(`{"name":"leaky","subject":"Your refill",
		"text":"Your Lisinopril 10 mg refill for hypertension has shipped.",
		"variables":{"diagnosis":{"type":"string"}}}`), 0o600)

	if code, out, stderr := sealpost(t, nil, "lint", clean); code != 0 || out != "" {
		t.Fatalf("clean file: %d %q %q", code, out, stderr)
	}
	code, out, _ := sealpost(t, nil, "lint", clean, leaky)
	if code != 1 || !strings.Contains(out, "leaky.json:/text:1:") ||
		strings.Contains(out, "Lisinopril") ||
		strings.Contains(out, "hypertension") {
		t.Fatalf("leaky file: %d %s", code, out)
	}
	code, out, _ = sealpost(t, nil, "lint", "--json", leaky)
	var results []struct {
		File     string
		Problems []struct{ Field, Rule string }
	}
	if code != 1 || json.Unmarshal([]byte(out), &results) != nil || len(results[0].Problems) < 3 {
		t.Fatalf("--json: %d %s", code, out)
	}
	if code, _, _ := sealpost(t, nil, "lint", filepath.Join(dir, "missing.json")); code != 2 {
		t.Fatalf("missing file: exit %d", code)
	}
}

func TestAuditCommands(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			databaseURL, dataDir := storetest.Location(t, d)
			if dataDir == "" {
				dataDir = t.TempDir()
			}
			env := map[string]string{"SEALPOST_DATABASE_URL": databaseURL}
			dd := "--data-dir=" + dataDir
			sealpost(t, env, "migrate", "up", dd)
			for range 3 {
				if code, _, stderr := sealpost(t, env, "keys", "create", dd, "--name", "x", "--role", "sender"); code != 0 {
					t.Fatal(stderr)
				}
			}
			head := filepath.Join(dataDir, "head.json")
			if code, out, stderr := sealpost(t, env, "audit", "head", dd, "--out", head); code != 0 {
				t.Fatalf("head: %s %s", out, stderr)
			}
			if code, out, _ := sealpost(t, env, "audit", "verify", dd, "--head", head); code != 0 ||
				!strings.Contains(out, "OK: 3 events") {
				t.Fatalf("verify: %d %s", code, out)
			}
			code, out, _ := sealpost(t, env, "audit", "export", dd, "--format", "csv")
			if code != 0 || strings.Count(out, "key.created") != 3 {
				t.Fatalf("export: %d %s", code, out)
			}

			db, err := store.Open(context.Background(), databaseURL, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.ExecForTest(context.Background(),
				"UPDATE sealpost_audit_event SET actor = 'someone-else' WHERE seq = 2"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if code, out, _ := sealpost(t, env, "audit", "verify", dd); code != 1 ||
				!strings.Contains(out, "BROKEN at event 2") {
				t.Fatalf("verify after tampering: %d %s", code, out)
			}
		})
	}
}
