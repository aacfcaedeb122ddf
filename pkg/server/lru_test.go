package server

import "testing"

func TestLRU(t *testing.T) {
	c := newLRU[string, int](2)
	c.add("a", 1)
	c.add("b", 2)
	if v, ok := c.get("a"); !ok || v != 1 { // a is now the most recent
		t.Fatalf("get a: %v %v", v, ok)
	}
	c.add("c", 3) // evicts b
	if _, ok := c.get("b"); ok {
		t.Error("b should have been evicted")
	}
	c.add("a", 10)
	for k, want := range map[string]int{"a": 10, "c": 3} {
		if v, ok := c.get(k); !ok || v != want {
			t.Errorf("get %s: %v %v, want %v", k, v, ok, want)
		}
	}
	if c.len() != 2 {
		t.Errorf("len %d", c.len())
	}
}
