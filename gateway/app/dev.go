package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"github.com/sealpost/sealpost/dkim"
	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/capture"
	"github.com/sealpost/sealpost/gateway/catalog"
	"github.com/sealpost/sealpost/gateway/delivery"
	"github.com/sealpost/sealpost/gateway/localca"
	"github.com/sealpost/sealpost/templates"
)

// Files dev mode keeps in the data directory.
const (
	DevKeyFile   = "dev-api-key"
	devCADir     = "dev-ca"
	devInboxDir  = "inbox"
	devSelector  = "dev"
	devKeyName   = "dev"
	devCaptureIP = "127.0.0.1"
)

func (a *App) ensureDevDKIMKey() error {
	domain := a.from.Domain()
	keys, err := a.keys.ForDomain(domain)
	if err != nil && !errors.Is(err, dkim.ErrKeyNotFound) {
		return fmt.Errorf("dkim keys: %w", err)
	}
	if len(keys) > 0 {
		return nil
	}
	k, err := dkim.Generate(dkim.RSA, domain, devSelector)
	if err != nil {
		return err
	}
	if err := a.keys.Save(k); err != nil {
		return fmt.Errorf("dkim keys: %w", err)
	}
	a.logger.Info("generated a DKIM key for dev mode", "key", k)
	return nil
}

// startCapture starts the embedded capture SMTP server on loopback with a
// certificate from the dev CA, and returns a relay configuration that
// trusts that CA and nothing else.
func (a *App) startCapture(addr string) (delivery.Config, error) {
	if addr == "" {
		addr = net.JoinHostPort(devCaptureIP, "0")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return delivery.Config{}, errors.New("capture address must be host:port")
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return delivery.Config{}, errors.New(
			"the capture server listens on a loopback address only",
		)
	}
	var ca *localca.CA
	ca, err = localca.LoadOrCreate(filepath.Join(a.cfg.DataDir, devCADir))
	if err != nil {
		return delivery.Config{}, fmt.Errorf("dev ca: %w", err)
	}
	cert, err := ca.Issue("localhost", devCaptureIP)
	if err != nil {
		return delivery.Config{}, fmt.Errorf("dev ca: %w", err)
	}
	a.capture, err = capture.New(filepath.Join(a.cfg.DataDir, devInboxDir), cert,
		a.logger.With("component", "capture"))
	if err != nil {
		return delivery.Config{}, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return delivery.Config{}, fmt.Errorf("capture listen: %w", err)
	}
	a.captureAddr = l.Addr().String()
	go func() {
		if err := a.capture.Serve(l); err != nil {
			a.logger.Debug("capture server stopped", "err", err)
		}
	}()
	bound := l.Addr().(*net.TCPAddr)
	return delivery.Config{
		Host: bound.IP.String(), Port: bound.Port, ServerName: "localhost", TLSMode: delivery.StartTLS,
		RootCAs: ca.Pool(), HeloName: "localhost", MaxConns: a.cfg.RelayMaxConns,
	}, nil
}

// devSetup loads the example templates, makes sure a dev API key exists and
// mounts the inbox routes.
func (a *App) devSetup(ctx context.Context, cat *catalog.Catalog) error {
	examples, err := templates.Examples()
	if err != nil {
		return err
	}
	for _, t := range examples {
		if _, err := cat.Get(ctx, t.Name, 0); err == nil {
			continue
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		if _, err := cat.Save(ctx, t, "dev"); err != nil {
			return fmt.Errorf("load example template %s: %w", t.Name, err)
		}
	}

	if err := a.ensureDevKey(ctx); err != nil {
		return err
	}
	a.api.Mount("GET /dev/inbox", http.HandlerFunc(a.listInbox))
	a.api.Mount("GET /dev/inbox/{file}", http.HandlerFunc(a.openInbox))
	return nil
}

func (a *App) ensureDevKey(ctx context.Context) error {
	path := filepath.Join(a.cfg.DataDir, DevKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		text := strings.TrimSpace(string(b))
		if _, err := apikey.NewAuthenticator(a.db).Authenticate(ctx, text); err == nil {
			a.devKey = text
			return nil
		}
	}
	text, _, err := apikey.Create(ctx, a.db, devKeyName, []apikey.Role{apikey.Sender, apikey.Admin})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
		return fmt.Errorf("write dev key: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	a.devKey = text
	return nil
}

type inboxItem struct {
	capture.Item
	DKIM string `json:"dkim"`
	EML  string `json:"eml"`
}

func (a *App) listInbox(w http.ResponseWriter, r *http.Request) {
	items, err := a.capture.List()
	if err != nil {
		http.Error(w, "inbox unavailable", http.StatusInternalServerError)
		return
	}
	out := make([]inboxItem, 0, len(items))
	for _, it := range items {
		out = append(
			out,
			inboxItem{Item: it, DKIM: a.verifyCaptured(it.ID), EML: "/dev/inbox/" + it.ID + ".eml"},
		)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": out})
}

var inboxFileRE = regexp.MustCompile(`^([A-Za-z0-9_-]{1,64})\.eml$`)

func (a *App) openInbox(w http.ResponseWriter, r *http.Request) {
	m := inboxFileRE.FindStringSubmatch(r.PathValue("file"))
	if m == nil {
		http.NotFound(w, r)
		return
	}
	rc, err := a.capture.Open(m[1])
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.Copy(w, rc)
}

// verifyCaptured checks a captured message's DKIM signatures against the
// keys in the keystore, as a receiver would against DNS.
func (a *App) verifyCaptured(id string) string {
	rc, err := a.capture.Open(id)
	if err != nil {
		return "unknown"
	}
	defer rc.Close()
	unknownKey := false
	verifications, err := msgauth.VerifyWithOptions(rc, &msgauth.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			keys, err := a.keys.List()
			if err != nil {
				return nil, err
			}
			for _, k := range keys {
				if k.RecordName() == name {
					return []string{k.TXTRecord()}, nil
				}
			}
			unknownKey = true
			return nil, errors.New("no such record")
		},
	})
	if err != nil || len(verifications) == 0 {
		return "none"
	}
	for _, v := range verifications {
		if v.Err != nil {
			if unknownKey {
				// Signed by a key this gateway does not hold (another
				// sender relaying through the dev inbox): not checkable here.
				return "unknown key"
			}
			return "fail"
		}
	}
	return "pass"
}
