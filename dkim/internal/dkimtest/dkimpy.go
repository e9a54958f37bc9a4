package dkimtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// pythonPath is the system Python, where the Debian python3-dkim and
// python3-nacl packages install dkimpy and its Ed25519 support.
const pythonPath = "/usr/bin/python3"

// dkimpyScript serves verification requests, one JSON object per line on
// stdin: {"records": {...}, "messages": [base64, ...]}. For each it
// verifies every DKIM-Signature of every message, answering key lookups
// from records, and writes one JSON line: a list of booleans per message,
// or {"error": "..."} if dkimpy is not installed.
const dkimpyScript = `
import base64, json, sys
try:
    import dkim, nacl
except ImportError as e:
    print(json.dumps({"error": repr(e)}), flush=True)
    sys.exit(0)
print(json.dumps({"ready": True}), flush=True)

for line in sys.stdin:
    request = json.loads(line)
    records = request["records"]

    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.rstrip("."), "").encode() or None

    answers = []
    for encoded in request["messages"]:
        d = dkim.DKIM(base64.b64decode(encoded))
        count = len([h for h, _ in d.headers if h.lower() == b"dkim-signature"])
        results = []
        for i in range(count):
            try:
                results.append(bool(d.verify(idx=i, dnsfunc=lookup)))
            except Exception as e:
                print(repr(e), file=sys.stderr)
                results.append(False)
        answers.append(results)
    print(json.dumps(answers), flush=True)
`

// ErrNoDkimpy is returned by StartDkimpy when dkimpy or its Ed25519
// support is not installed.
var ErrNoDkimpy = errors.New("dkimpy not installed")

// DkimpyServer is one long-running Python process verifying with dkimpy;
// starting Python and importing dkimpy takes seconds, so tests share it.
// It is safe for concurrent use.
type DkimpyServer struct {
	mu    sync.Mutex
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// StartDkimpy starts the server, or returns ErrNoDkimpy.
func StartDkimpy() (*DkimpyServer, error) {
	cmd := exec.Command(pythonPath, "-c", dkimpyScript)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDkimpy, err)
	}

	s := &DkimpyServer{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	line, err := s.out.ReadString('\n')
	if err != nil || !strings.Contains(line, `"ready"`) {
		s.Close()
		return nil, fmt.Errorf("%w: %s", ErrNoDkimpy, strings.TrimSpace(line))
	}
	return s, nil
}

// Verify verifies every signature of every message, answering key lookups
// from records (record name to TXT record), and returns per message one
// result per signature in header order.
func (s *DkimpyServer) Verify(msgs [][]byte, records map[string]string) ([][]bool, error) {
	request, err := json.Marshal(map[string]any{"records": records, "messages": msgs})
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.stdin.Write(append(request, '\n')); err != nil {
		return nil, fmt.Errorf("dkimpy: %w", err)
	}
	line, err := s.out.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("dkimpy: %w", err)
	}

	var results [][]bool
	if err := json.Unmarshal(line, &results); err != nil || len(results) != len(msgs) {
		return nil, fmt.Errorf("dkimpy answered %q: %v", line, err)
	}
	return results, nil
}

// Close stops the server.
func (s *DkimpyServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stdin.Close()
	return s.cmd.Wait()
}
