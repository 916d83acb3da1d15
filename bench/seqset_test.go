package bench

import "testing"

func TestSeqSet(t *testing.T) {
	s := newSeqSet(100, 1000)
	for _, seq := range []uint64{100, 101, 102, 164, 103} {
		s.add(seq)
	}
	c := s.check(5, 0)
	if c.First != 100 || c.Last != 164 || c.Unique != 5 || c.Holes != 60 || c.OK {
		t.Fatalf("%+v", c)
	}
	s = newSeqSet(7, 130)
	for seq := uint64(7); seq < 137; seq++ {
		s.add(seq)
	}
	if c := s.check(130, 0); !c.OK || c.First != 7 || c.Last != 136 || c.Holes != 0 {
		t.Fatalf("%+v", c)
	}
	if c := s.check(130, 1); c.OK {
		t.Fatalf("a seq going backwards passed: %+v", c)
	}
	s.add(5)   // below the start
	s.add(200) // past the room
	s.add(8)   // twice
	if c := s.check(133, 0); c.OK || c.Outside != 2 || c.Duplicates != 1 || c.Unique != 130 {
		t.Fatalf("%+v", c)
	}
	if c := newSeqSet(1, 10).check(0, 0); !c.OK || c.First != 0 || c.Unique != 0 {
		t.Fatalf("empty: %+v", c)
	}
}

func TestJSONFields(t *testing.T) {
	body := []byte(`{"topic":"a","seq": 4242,"epoch":"e1","code":"backpressure"}`)
	if v, ok := jsonUint(body, `"seq":`); !ok || v != 4242 {
		t.Fatalf("seq %d %v", v, ok)
	}
	if _, ok := jsonUint(body, `"first_seq":`); ok {
		t.Fatal("found a missing key")
	}
	if c := jsonString(body, `"code":`); c != "backpressure" {
		t.Fatalf("code %q", c)
	}
	if c := jsonString([]byte(`{"code":3}`), `"code":`); c != "" {
		t.Fatalf("code %q", c)
	}
}

func TestLossCheckRules(t *testing.T) {
	server := func(dropOldest, disconnect uint64) *ServerStats {
		return &ServerStats{DroppedBy: map[string]uint64{"drop_oldest": dropOldest, "disconnect": disconnect}}
	}
	for _, tc := range []struct {
		name   string
		check  LossCheck
		server *ServerStats
		ok     bool
	}{
		{"nothing lost", LossCheck{Policy: PolicyBlock}, server(0, 0), true},
		{"errors", LossCheck{Policy: PolicyDropOldest, Errors: 1}, server(0, 0), false},
		{"undelivered", LossCheck{Policy: PolicyDropOldest, Undelivered: 3}, server(3, 0), false},
		{"drop-oldest counted", LossCheck{Policy: PolicyDropOldest, Gaps: 10}, server(10, 0), true},
		{"drop-oldest, others too", LossCheck{Policy: PolicyDropOldest, Gaps: 10}, server(15, 0), true},
		{"drop-oldest unaccounted", LossCheck{Policy: PolicyDropOldest, Gaps: 10}, server(9, 0), false},
		{"drop-oldest unread", LossCheck{Policy: PolicyDropOldest, Gaps: 10}, nil, true},
		{"disconnect closed", LossCheck{Policy: PolicyDisconnect, Disconnected: 2, ByPolicy: 40}, server(0, 7), true},
		{"disconnect skipped", LossCheck{Policy: PolicyDisconnect, Gaps: 1}, server(1, 0), false},
		{"block skipped", LossCheck{Policy: PolicyBlock, Gaps: 1}, server(1, 0), false},
		{"block closed", LossCheck{Policy: PolicyBlock, Disconnected: 1}, server(0, 0), false},
	} {
		c := tc.check
		c.judge(tc.server)
		if c.OK != tc.ok || c.Verdict == "" {
			t.Errorf("%s: ok %v (%s), want %v", tc.name, c.OK, c.Verdict, tc.ok)
		}
	}
}
