package filters

import "testing"

func TestParseBothForms(t *testing.T) {
	for _, in := range []string{`{"dangling":{"true":true},"label":{"a=b":true}}`, `{"dangling":["true"],"label":["a=b"]}`} {
		a, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Get("dangling"); len(got) != 1 || got[0] != "true" {
			t.Fatalf("%s: dangling %v", in, got)
		}
		if !a.MatchLabels("label", map[string]string{"a": "b"}) || a.MatchLabels("label", map[string]string{"a": "c"}) {
			t.Fatalf("%s: label matching", in)
		}
	}
	if _, err := Parse("{bad"); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

func TestFromFlagsAndValidate(t *testing.T) {
	a, err := FromFlags([]string{"dangling=true", "label=x"})
	if err != nil || a.Encode() != `{"dangling":{"true":true},"label":{"x":true}}` {
		t.Fatalf("%v %s", err, a.Encode())
	}
	if err := a.Validate("dangling"); err == nil || err.Error() != "invalid filter 'label'" {
		t.Fatalf("validate: %v", err)
	}
	if _, err := FromFlags([]string{"novalue"}); err == nil {
		t.Fatal("filter without = accepted")
	}
	neg := Args{}
	neg.Add("label!", "x")
	if neg.MatchLabels("label", map[string]string{"x": "1"}) || !neg.MatchLabels("label", nil) {
		t.Fatal("negated label")
	}
}
