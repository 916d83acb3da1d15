package httpx

import (
	"strings"
	"testing"
	"unsafe"
)

func TestIntern(t *testing.T) {
	b := []byte("/v1/topics/intern.test")
	first := Intern(b)
	if first != "/v1/topics/intern.test" {
		t.Fatalf("Intern = %q", first)
	}
	again := Intern(b)
	if unsafe.StringData(again) != unsafe.StringData(first) {
		t.Fatal("the same bytes were not interned")
	}
	if n := testing.AllocsPerRun(100, func() { Intern(b) }); n != 0 {
		t.Fatalf("%v allocations per interned string, want 0", n)
	}
	copy(b, "XXXXXXXX")
	if first != "/v1/topics/intern.test" {
		t.Fatalf("the interned string changed with its bytes: %q", first)
	}
	if got := Intern(b); got != string(b) {
		t.Fatalf("Intern = %q after the bytes changed, want %q", got, b)
	}
	if got := Intern(nil); got != "" {
		t.Fatalf("Intern(nil) = %q", got)
	}
	long := []byte(strings.Repeat("x", MaxInterned+1))
	if got := Intern(long); got != string(long) {
		t.Fatal("a long string changed")
	}
	for i := range 4 * internSlots {
		s := "/v1/topics/t" + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + string(rune('0'+i%10)) + strings.Repeat("z", i/260)
		if got := Intern([]byte(s)); got != s {
			t.Fatalf("Intern = %q, want %q", got, s)
		}
	}
}
