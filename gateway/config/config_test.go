package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/config"
)

// These tests set process environment variables, so they do not run in
// parallel.

func TestDefaults(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./sealpost-data" || c.HTTPAddr != "127.0.0.1:8025" || c.RelayPort != 587 ||
		c.RelayTLS != "starttls" || c.DKIMDir != filepath.Join("sealpost-data", "dkim") {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestPrecedenceAndSecretFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sealpost.conf")
	os.WriteFile(
		file,
		[]byte("# comment\nSEALPOST_RELAY_PORT=465\nSEALPOST_RELAY_HOST=file.example\n"),
		0o600,
	)
	secret := filepath.Join(dir, "pw")
	os.WriteFile(secret, []byte("s3cret-value\n"), 0o600)

	t.Setenv("SEALPOST_RELAY_HOST", "env.example")
	t.Setenv("SEALPOST_RELAY_PASSWORD_FILE", secret)
	c, err := config.Load(file, map[string]string{"SEALPOST_DATA_DIR": "/tmp/x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.RelayHost != "env.example" || c.RelayPort != 465 || c.RelayPassword != "s3cret-value" ||
		c.DataDir != "/tmp/x" {
		t.Fatalf("precedence: %+v", c)
	}
	for _, line := range c.Describe(file) {
		if strings.Contains(line, "s3cret-value") {
			t.Fatalf("Describe printed a secret: %s", line)
		}
	}
}

func TestInvalidValuesNameTheOptionNotTheValue(t *testing.T) {
	t.Setenv("SEALPOST_DATABASE_URL", "mysql://u:pa55word@h/db")
	t.Setenv("SEALPOST_RELAY_TLS", "none")
	t.Setenv("SEALPOST_RELAY_PORT", "99999")
	_, err := config.Load("", nil)
	if err == nil {
		t.Fatal("want error")
	}
	msg := err.Error()
	for _, want := range []string{"SEALPOST_DATABASE_URL", "SEALPOST_RELAY_TLS", "SEALPOST_RELAY_PORT"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %s: %s", want, msg)
		}
	}
	if strings.Contains(msg, "pa55word") {
		t.Fatalf("error echoes a secret: %s", msg)
	}
}

func TestConfigFileErrorsDoNotEchoLines(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(file, []byte("SEALPOST_RELAY_PASSWRD=topsecret\n"), 0o600)
	_, err := config.Load(file, nil)
	if err == nil || strings.Contains(err.Error(), "topsecret") ||
		!strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err = %v", err)
	}
}
