package htmlcheck

import "testing"

// The oracle must catch what it is there to catch, or the fuzz targets
// prove nothing.
func TestUnsafe(t *testing.T) {
	for _, tc := range []struct {
		html   string
		unsafe bool
	}{
		{`<p>Hello <a href="https://example.com" rel="nofollow">there</a></p>`, false},
		{`<p><img src="/a.png" alt="x"></p>`, false},
		{`<a href="/relative:path">x</a>`, false},
		{`<script>alert(1)</script>`, true},
		{`<p><img src=x onerror=alert(1)></p>`, true},
		{`<a href="javascript:alert(1)">x</a>`, true},
		{`<a href=" JaVa&#x09;Script:alert(1)">x</a>`, true},
		{`<a href="&#106;avascript:alert(1)">x</a>`, true},
		{`<iframe src="https://evil.example"></iframe>`, true},
		{`<svg><g onload="x"></g></svg>`, true},
		{`<p style="background:url(x)">x</p>`, true},
		{`<a href="data:text/html,x">x</a>`, true},
	} {
		if got := Unsafe(tc.html) != ""; got != tc.unsafe {
			t.Errorf("Unsafe(%q) = %q, want unsafe %v", tc.html, Unsafe(tc.html), tc.unsafe)
		}
	}
}
