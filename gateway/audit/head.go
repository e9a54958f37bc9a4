package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
)

// headFileMode lets compliance staff read a head file; it holds hashes only.
const headFileMode = 0o644

// HeadRecord is a chain head kept outside the database: the newest seq and
// its hash at the time it was written.
type HeadRecord struct {
	Seq       int64
	Hash      []byte
	WrittenAt time.Time
}

// headFile is the JSON form of a head file.
type headFile struct {
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	WrittenAt string `json:"written_at"`
}

// MarshalJSON writes {"seq":…,"hash":"<hex>","written_at":"<RFC 3339>"}.
func (h HeadRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(headFile{
		Seq:       h.Seq,
		Hash:      hex.EncodeToString(h.Hash),
		WrittenAt: h.WrittenAt.UTC().Format(time.RFC3339Nano),
	})
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (h *HeadRecord) UnmarshalJSON(b []byte) error {
	var f headFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w: %w", ErrBadHeadFile, err)
	}
	hash, err := hex.DecodeString(f.Hash)
	if err != nil || len(hash) != hashSize || f.Seq < 0 {
		return fmt.Errorf("%w: seq or hash out of range", ErrBadHeadFile)
	}
	at, err := time.Parse(time.RFC3339Nano, f.WrittenAt)
	if err != nil {
		return fmt.Errorf("%w: written_at: %w", ErrBadHeadFile, err)
	}
	*h = HeadRecord{Seq: f.Seq, Hash: hash, WrittenAt: at}
	return nil
}

// WriteHead verifies the chain and writes its head to path, replacing the
// file atomically (a reader sees the old head or the new one, never part of
// either). Keep the file where the database's writers cannot reach it. It
// returns ErrChainBroken, writing nothing, when the chain does not verify:
// a head must never bless a tampered chain.
func WriteHead(ctx context.Context, db *store.DB, path string) error {
	rep, err := Verify(ctx, db)
	if err != nil {
		return fmt.Errorf("write audit head: %w", err)
	}
	if !rep.OK {
		return fmt.Errorf("write audit head: %w at seq %d: %s", ErrChainBroken, rep.FirstBad,
			rep.Reason)
	}
	body, err := json.Marshal(HeadRecord{Seq: rep.HeadSeq, Hash: rep.Head,
		WrittenAt: time.Now()})
	if err != nil {
		return fmt.Errorf("write audit head: %w", err)
	}
	if err := writeFileAtomic(path, append(body, '\n')); err != nil {
		return fmt.Errorf("write audit head: %w", err)
	}
	return nil
}

// ReadHead reads a head file written by WriteHead.
func ReadHead(path string) (HeadRecord, error) {
	var h HeadRecord
	body, err := os.ReadFile(path)
	if err != nil {
		return h, fmt.Errorf("read audit head: %w", err)
	}
	if err := json.Unmarshal(body, &h); err != nil {
		if !errors.Is(err, ErrBadHeadFile) {
			err = fmt.Errorf("%w: %w", ErrBadHeadFile, err)
		}
		return h, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}

// writeFileAtomic writes body to a temporary file beside path, syncs it and
// renames it over path, then syncs the directory so the rename survives a
// crash.
func writeFileAtomic(path string, body []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) //nolint:errcheck // gone after a successful rename

	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(headFileMode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}

	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
