package mime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// sink is a go-smtp backend that records every message it accepts.
type sink struct {
	mu       sync.Mutex
	mails    int
	messages [][]byte
}

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &sinkSession{sink: s}, nil
}

func (s *sink) received() (mails int, messages [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.mails, s.messages
}

type sinkSession struct {
	sink *sink
}

func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error {
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()

	s.sink.mails++

	return nil
}

func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read data: %w", err)
	}

	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()

	s.sink.messages = append(s.sink.messages, b)

	return nil
}

// startSink runs a go-smtp server on loopback that refuses lines over 998
// octets, and stops it at cleanup.
func startSink(t *testing.T) (*sink, string) {
	t.Helper()

	be := &sink{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.MaxLineLength = maxLineOctets + 2 // the line and its CRLF
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()

	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}

		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) &&
			!errors.Is(err, net.ErrClosed) {
			t.Errorf("serve: %v", err)
		}
	})

	return be, l.Addr().String()
}

// sendRaw speaks SMTP by hand and writes msg after DATA exactly as built:
// no dot-stuffing, no newline conversion. It returns the reply to the
// end-of-data line.
func sendRaw(t *testing.T, addr string, msg []byte) string {
	t.Helper()

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}

	r := bufio.NewReader(conn)
	expect := func(code string) string {
		t.Helper()

		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read reply: %v", err)
			}

			if !strings.HasPrefix(line, code) {
				t.Fatalf("reply %q, want %s", line, code)
			}

			if len(line) < 4 || line[3] != '-' {
				return line
			}
		}
	}
	send := func(cmd string, code string) string {
		t.Helper()

		if _, err := io.WriteString(conn, cmd+"\r\n"); err != nil {
			t.Fatal(err)
		}

		return expect(code)
	}

	expect("220")
	send("EHLO localhost", "250")
	send("MAIL FROM:<noreply@example.test>", "250")
	send("RCPT TO:<pat@example.test>", "250")
	send("DATA", "354")
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	reply := send(".", "250")
	send("QUIT", "221")

	return reply
}

// sendClient delivers msg with the go-smtp client, which dot-stuffs and
// converts bare LF on its own; our output must need neither.
func sendClient(t *testing.T, addr string, msg []byte) {
	t.Helper()

	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if err := c.SendMail("noreply@example.test", []string{"pat@example.test"},
		bytes.NewReader(msg)); err != nil {
		t.Fatalf("send: %v", err)
	}

	if err := c.Quit(); err != nil {
		t.Fatalf("quit: %v", err)
	}
}

func TestSMTPDeliversExactBytes(t *testing.T) {
	t.Parallel()

	type input struct {
		name string
		edit func(m *Message)
	}
	inputs := []input{
		{"fixture", func(*Message) {}},
		{"BL-07 long HTML line", func(m *Message) { m.HTML = bl07HTML() }},
		{"BL-05 long headers", func(m *Message) { m.Subject = mixedText(300) }},
	}
	for _, eod := range endOfDataVariants {
		inputs = append(inputs, input{
			fmt.Sprintf("BL-08 %q", eod),
			func(m *Message) {
				m.Text = smugglingPayload(eod)
				m.HTML = "<pre>" + smugglingPayload(eod) + "</pre>"
			},
		})
	}

	senders := []struct {
		name string
		send func(t *testing.T, addr string, msg []byte)
	}{
		{"raw", func(t *testing.T, addr string, msg []byte) { sendRaw(t, addr, msg) }},
		{"go-smtp client", sendClient},
	}

	for _, in := range inputs {
		for _, sender := range senders {
			t.Run(in.name+"/"+sender.name, func(t *testing.T) {
				t.Parallel()

				m := testMessage(t)
				in.edit(m)

				msg, err := m.Bytes()
				if err != nil {
					t.Fatal(err)
				}

				be, addr := startSink(t)
				sender.send(t, addr, msg)

				mails, got := be.received()
				if mails != 1 || len(got) != 1 {
					t.Fatalf("server saw %d MAIL commands and %d messages, want 1",
						mails, len(got))
				}

				if !bytes.Equal(got[0], msg) {
					t.Fatalf("received bytes differ from the built message")
				}
			})
		}
	}
}

// TestSMTPSinkDetectsSmuggling shows the sink test can fail: unencoded, the
// BL-08 payload ends DATA early and smuggles a second MAIL command.
func TestSMTPSinkDetectsSmuggling(t *testing.T) {
	t.Parallel()

	be, addr := startSink(t)
	raw := "Subject: x\r\n\r\n" + smugglingPayload("\r\n.\r\n")

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	script := "EHLO localhost\r\nMAIL FROM:<noreply@example.test>\r\n" +
		"RCPT TO:<pat@example.test>\r\nDATA\r\n" + raw + "QUIT\r\n"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	go func() {
		<-ctx.Done()
		conn.Close()
	}()

	r := bufio.NewReader(conn)
	for _, line := range strings.SplitAfter(script, "\r\n") {
		if _, err := io.WriteString(conn, line); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.Copy(io.Discard, r); err != nil && ctx.Err() == nil &&
		!errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}

	if mails, got := be.received(); mails < 2 || len(got) < 2 {
		t.Fatalf("server saw %d MAIL commands and %d messages; smuggling went unseen",
			mails, len(got))
	}
}
