package registry

import (
	"net/http"
	"testing"
)

type recordingTransport struct{ urls []string }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.String())
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

func TestSchemePolicy(t *testing.T) {
	rec := &recordingTransport{}
	p := schemePolicy{next: rec, insecure: map[string]bool{"10.0.0.5:5000": true}}
	tests := map[string]string{
		"http://127.0.0.1:5000/v2/":      "http://127.0.0.1:5000/v2/",
		"http://localhost:5000/v2/":      "http://localhost:5000/v2/",
		"http://[::1]:5000/v2/":          "http://[::1]:5000/v2/",
		"http://10.0.0.5:5000/v2/":       "http://10.0.0.5:5000/v2/", // listed as insecure
		"http://192.168.1.20:5000/v2/":   "https://192.168.1.20:5000/v2/",
		"http://10.0.0.6:5000/v2/":       "https://10.0.0.6:5000/v2/",
		"http://registry.example/v2/":    "https://registry.example/v2/",
		"https://registry.example/v2/x/": "https://registry.example/v2/x/",
	}
	for in, want := range tests {
		rec.urls = nil
		req, _ := http.NewRequest(http.MethodGet, in, nil)
		if _, err := p.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if len(rec.urls) != 1 || rec.urls[0] != want {
			t.Errorf("%s went to %v, want %s", in, rec.urls, want)
		}
	}
}
