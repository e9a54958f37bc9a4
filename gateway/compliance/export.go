package compliance

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
)

// Export formats.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
)

// ErrFormat means an export format other than ndjson or csv.
var ErrFormat = errors.New("format must be ndjson or csv")

var consentColumns = []string{"id", "address", "purpose", "action", "source", "wording_version",
	"wording_hash", "ip", "user_agent", "actor", "at"}

// ExportConsents streams the consent history the filter selects, with its
// full evidence, and returns the number of rows.
func ExportConsents(ctx context.Context, db *store.DB, f store.ExportFilter, format string,
	w io.Writer,
) (int, error) {
	enc, err := newEncoder(format, w, consentColumns)
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.EachConsentEvent(ctx, f, func(e *store.ConsentEvent) error {
		n++
		return enc.row([]string{e.ID, e.Address, e.Purpose, e.Action, e.Source, e.WordingVersion,
			e.WordingHash, e.RemoteAddr, e.UserAgent, e.Actor, e.CreatedAt.Format(time.RFC3339Nano)})
	})
	if err != nil {
		return n, err
	}
	return n, enc.flush()
}

var suppressionColumns = []string{"id", "address", "scope", "reason", "source", "message_id",
	"at", "removed_at", "removed_by", "removal_reason"}

// ExportSuppressions streams suppressions, removed ones included, and
// returns the number of rows.
func ExportSuppressions(ctx context.Context, db *store.DB, f store.ExportFilter, format string,
	w io.Writer,
) (int, error) {
	enc, err := newEncoder(format, w, suppressionColumns)
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.EachSuppression(ctx, f, func(s *store.Suppression) error {
		n++
		removed := ""
		if s.RemovedAt != nil {
			removed = s.RemovedAt.Format(time.RFC3339Nano)
		}
		return enc.row([]string{s.ID, s.Address, s.Scope, s.Reason, s.Source, s.MessageID,
			s.CreatedAt.Format(time.RFC3339Nano), removed, s.RemovedBy, s.RemovalReason})
	})
	if err != nil {
		return n, err
	}
	return n, enc.flush()
}

// encoder writes rows as CSV (with a header) or NDJSON objects.
type encoder struct {
	cols []string
	csv  *csv.Writer
	json *json.Encoder
}

func newEncoder(format string, w io.Writer, cols []string) (*encoder, error) {
	switch format {
	case FormatCSV:
		c := csv.NewWriter(w)
		if err := c.Write(cols); err != nil {
			return nil, err
		}
		return &encoder{cols: cols, csv: c}, nil
	case FormatNDJSON, "":
		return &encoder{cols: cols, json: json.NewEncoder(w)}, nil
	}
	return nil, ErrFormat
}

func (e *encoder) row(values []string) error {
	if e.csv != nil {
		// A cell a spreadsheet would run as a formula is prefixed with a
		// quote; NDJSON keeps values exactly.
		for i, v := range values {
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				values[i] = "'" + v
			}
		}
		return e.csv.Write(values)
	}
	obj := make(map[string]string, len(values))
	for i, v := range values {
		if v != "" {
			obj[e.cols[i]] = v
		}
	}
	return e.json.Encode(obj)
}

func (e *encoder) flush() error {
	if e.csv != nil {
		e.csv.Flush()
		return e.csv.Error()
	}
	return nil
}

// ExportDetails describes an export for its audit event, without the
// address it may have been filtered by.
func ExportDetails(format string, rows int, f store.ExportFilter) map[string]string {
	d := map[string]string{"format": format, "rows": strconv.Itoa(rows)}
	if f.Address != "" {
		d["filtered_by_address"] = "true"
	}
	if !f.Since.IsZero() {
		d["since"] = f.Since.UTC().Format(time.RFC3339)
	}
	if !f.Until.IsZero() {
		d["until"] = f.Until.UTC().Format(time.RFC3339)
	}
	return d
}
