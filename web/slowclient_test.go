package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/labstack/echo/v4"
)

// serveReal serves the harness's Echo through Serve, as the binary does,
// on a real listener with the given timeouts, and returns its address.
func serveReal(t *testing.T, h *harness, to Timeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, h.Echo, ln, time.Second, to) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}

// readUntilClosed reads what the server sends until it closes the
// connection, and says how long that took; it gives up after limit.
func readUntilClosed(t *testing.T, conn net.Conn, limit time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(limit))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server still held the connection after %s; it sent %q", limit, got)
	}
	return string(got), time.Since(start)
}

// TestSlowBodyIsCutOff sends headers, then a body one byte a second: the
// server must give up on it at its read timeout, whether or not the
// request carries a token (a request without one is refused, but its body
// is still read off the connection), and a form's as an API body's (408).
func TestSlowBodyIsCutOff(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	addr := serveReal(t, h, Timeouts{ReadHeader: time.Second, Read: time.Second, Idle: time.Minute})
	sre := h.agent(t, member("sre-sam", budgetgate.RoleSRE))
	for _, tc := range []struct {
		name, path, typ, auth, status string
	}{
		{"with a token", "/api/v1/services/ledger/sli", "application/json", "Authorization: Bearer " + h.Token + "\r\n", "HTTP/1.1 408"},
		{"without a token", "/api/v1/services/ledger/sli", "application/json", "", ""},
		{"a form", "/policies", "application/x-www-form-urlencoded", "Cookie: " + sre.Cookie.String() + "\r\n", "HTTP/1.1 408"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			head := "POST " + tc.path + " HTTP/1.1\r\nHost: test\r\nContent-Type: " + tc.typ + "\r\nContent-Length: 200\r\n" + tc.auth + "\r\n"
			if _, err := io.WriteString(conn, head); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
					}
					if _, err := conn.Write([]byte("{")); err != nil {
						return
					}
				}
			}()
			got, took := readUntilClosed(t, conn, 5*time.Second)
			if took > 3*time.Second {
				t.Errorf("connection closed after %s; want about the 1s read timeout", took)
			}
			if !strings.HasPrefix(got, tc.status) {
				t.Errorf("answer %q; want it to start with %q", got, tc.status)
			}
		})
	}
}

// TestIdleConnectionIsClosed keeps a connection open after one request:
// the server closes it at its idle timeout.
func TestIdleConnectionIsClosed(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	addr := serveReal(t, h, Timeouts{ReadHeader: time.Second, Read: 5 * time.Second, Idle: time.Second})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /health HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("health: %d, close %v; want 200 on a kept-alive connection", res.StatusCode, res.Close)
	}
	start := time.Now()
	conn.SetReadDeadline(start.Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v; want the server to close it (EOF)", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("idle connection closed after %s; want about the 1s idle timeout", took)
	}
}

// TestUnreadAnswerIsCutOff asks for a large answer and never reads it: at
// the write deadline the server gives up, the handler returns and the
// connection is closed, rather than both being held for ever.
func TestUnreadAnswerIsCutOff(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	returned := make(chan error, 1)
	h.Echo.GET("/api/v1/test-large", func(c echo.Context) error {
		err := c.Blob(http.StatusOK, "application/octet-stream", make([]byte, 64<<20))
		returned <- err
		return err
	})
	addr := serveReal(t, h, Timeouts{ReadHeader: time.Second, Read: time.Second, Idle: time.Minute, Write: time.Second})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /api/v1/test-large HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer "+h.Token+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-returned:
		if err == nil {
			t.Error("the whole answer was written to a client that read none of it")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still writes to a client that does not read, 10s after a 1s write deadline")
	}
}
