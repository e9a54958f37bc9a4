package capture

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	fileMode fs.FileMode = 0o600
	dirMode  fs.FileMode = 0o700

	messageExt = ".eml"
	itemExt    = ".json"

	// idLength is 16 hex digits of receive time in nanoseconds followed by
	// 8 random hex digits: ordered by time, unguessable enough for a local
	// inbox, and safe in a URL and a file name.
	idLength = 24
)

// Item describes one captured message. It holds addresses, so it logs as
// its id and size only.
type Item struct {
	ID         string    `json:"id"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	ReceivedAt time.Time `json:"received_at"`
	// TLSVersion is the protocol the message arrived over, e.g. "TLS 1.3".
	TLSVersion string `json:"tls_version"`
	// Size is the message size in octets.
	Size int `json:"size"`
}

// LogValue logs the item without addresses or subject.
func (it Item) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", it.ID),
		slog.Int("size", it.Size),
		slog.Int("rcpt_count", len(it.To)),
		slog.String("tls_version", it.TLSVersion),
	)
}

// newID returns a time-ordered random id.
func newID(now time.Time) (string, error) {
	var random [4]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("generate id: %w", err)
	}
	return fmt.Sprintf("%016x%s", now.UnixNano(), hex.EncodeToString(random[:])), nil
}

// validID reports whether id has exactly the shape newID produces, which
// rules out path separators, dots and every other way out of the inbox.
func validID(id string) bool {
	if len(id) != idLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// store writes the message and then its sidecar; an item is listed only
// once both are complete.
func (s *Server) store(it Item, data []byte) error {
	if err := writeAtomic(s.dir, it.ID+messageExt, data); err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	meta, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("encode item: %w", err)
	}
	if err := writeAtomic(s.dir, it.ID+itemExt, meta); err != nil {
		return fmt.Errorf("store item: %w", err)
	}
	return nil
}

// writeAtomic writes data to dir/name with mode 0600 through a temporary
// file and a rename.
func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, ".incoming-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)

	if err := f.Chmod(fileMode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// List returns the captured messages, newest first.
func (s *Server) List() ([]Item, error) {
	if s.dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("read inbox: %w", err)
	}

	items := make([]Item, 0, len(entries)/2)
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), itemExt)
		if !ok || !validID(id) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read item: %w", err)
		}
		var it Item
		if err := json.Unmarshal(data, &it); err != nil {
			return nil, fmt.Errorf("decode item: %w", err)
		}
		items = append(items, it)
	}

	slices.SortFunc(items, func(a, b Item) int { return strings.Compare(b.ID, a.ID) })
	return items, nil
}

// Open returns the exact bytes received for id. Ids not of the shape this
// package issues are refused with ErrInvalidID.
func (s *Server) Open(id string) (io.ReadCloser, error) {
	if !validID(id) {
		return nil, ErrInvalidID
	}
	if s.dir == "" {
		return nil, ErrNotFound
	}
	f, err := os.Open(filepath.Join(s.dir, id+messageExt))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	return f, nil
}

// subject returns the decoded Subject of a message for display, or "" when
// the header block cannot be parsed.
func subject(data []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	return displayText(msg.Header.Get("Subject"))
}

// displayText decodes RFC 2047 encoded-words and makes the result safe to
// show on one line: valid UTF-8, with control characters (including any CR
// or LF an encoded-word smuggled in) replaced by spaces.
func displayText(raw string) string {
	dec := new(mime.WordDecoder)
	text, err := dec.DecodeHeader(raw)
	if err != nil {
		text = raw
	}
	text = strings.ToValidUTF8(text, string(utf8.RuneError))
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
}
