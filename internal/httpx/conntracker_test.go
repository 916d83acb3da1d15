package httpx

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestConnTrackerAbortClosesAndRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	ct := NewConnTracker()
	closedEarly, err := ct.Dial(ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	closedEarly.Close() // forgotten: Abort must not touch it again
	inUse, err := ct.Dial(ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	(<-accepted).Close() // the server side of closedEarly
	server := <-accepted
	defer server.Close()
	ct.Abort()
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := server.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the connection in use was not closed by Abort: %v", err)
	}
	if _, err := ct.Dial(ln.Addr().String(), time.Second); !errors.Is(err, ErrAborted) {
		t.Fatalf("dial after Abort: %v", err)
	}
	if _, err := inUse.Write([]byte("x")); err == nil {
		t.Fatal("write on an aborted connection succeeded")
	}
}
