package linkpreview

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// page serves an HTML page with a head describing it.
const page = `<!doctype html><html><head>
<title>Plain title</title>
<meta property="og:title" content="The &amp; Title">
<meta property="og:description" content="What   it is
about">
<meta property="og:site_name" content="Example Site">
<meta property="og:image" content="/img.png">
</head><body><p>body text</p></body></html>`

// server starts an httptest server on loopback and returns it with its
// address.
func server(t *testing.T, h http.Handler) (*httptest.Server, netip.AddrPort) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	return srv, ap
}

// allowing is a fetch config that lets the given test servers (and only
// them) be reached, on their ports.
func allowing(aps ...netip.AddrPort) FetchConfig {
	cfg := FetchConfig{Ports: []int{80, 443}, AllowAddrs: aps}
	for _, ap := range aps {
		cfg.Ports = append(cfg.Ports, int(ap.Port()))
	}
	return cfg
}

func htmlHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}
}

func TestFetchReadsTheHeadOfAnAllowedTestServer(t *testing.T) {
	srv, ap := server(t, htmlHandler(page))
	h, final, err := NewFetcher(allowing(ap)).Page(context.Background(), srv.URL+"/a")
	if err != nil {
		t.Fatal(err)
	}
	want := Head{Title: "The & Title", Description: "What it is about", SiteName: "Example Site", Image: "/img.png"}
	if h != want || final.Path != "/a" {
		t.Fatalf("Page = %+v at %v; want %+v", h, final, want)
	}
}

func TestFetchRefusesPrivateAndSpecialAddresses(t *testing.T) {
	srv, _ := server(t, htmlHandler(page))
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	p := strconv.Itoa(port)
	// The test server's port is allowed, its address is not: only the
	// address check stands between the fetch and the server.
	f := NewFetcher(FetchConfig{Ports: []int{80, 443, port}})
	for _, u := range []string{
		"http://127.0.0.1:" + p + "/",
		"http://[::1]:" + p + "/",
		"http://[::ffff:127.0.0.1]:" + p + "/",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1/",
		"http://192.168.1.1/",
		"http://172.16.0.1/",
		"http://100.64.0.1/",
		"http://0.0.0.0:" + p + "/",
		"http://[fe80::1]/",
		"http://[fc00::1]/",
		"http://224.0.0.1/",
	} {
		if _, _, err := f.Page(context.Background(), u); !errors.Is(err, ErrBlocked) {
			t.Errorf("Page(%s) err = %v, want ErrBlocked", u, err)
		}
	}
}

func TestFetchRefusesAHostNameResolvingToAPrivateAddress(t *testing.T) {
	var asked []string
	f := NewFetcher(FetchConfig{Lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
		asked = append(asked, host)
		return []netip.Addr{netip.MustParseAddr("10.1.2.3")}, nil
	}})
	if _, _, err := f.Page(context.Background(), "http://internal.example.com/"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("err = %v, want ErrBlocked", err)
	}
	if len(asked) != 1 || asked[0] != "internal.example.com" {
		t.Fatalf("resolver asked for %v", asked)
	}
}

func TestFetchChecksTheAddressItDialsNotAnEarlierLookup(t *testing.T) {
	// DNS rebinding: a name first answers a public address, then loopback.
	// The fetcher resolves once per connection and checks what it dials.
	srv, _ := server(t, htmlHandler(page))
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	calls := 0
	f := NewFetcher(FetchConfig{Ports: []int{80, 443, port}, Lookup: func(context.Context, string) ([]netip.Addr, error) {
		calls++
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}})
	if _, _, err := f.Page(context.Background(), "http://rebind.example:"+strconv.Itoa(port)+"/"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("err = %v, want ErrBlocked", err)
	}
	// Even a lookup that names an allowed address cannot open a socket to
	// a blocked one: the dialer's Control hook sees the real address.
	if err := f.control("tcp", "127.0.0.1:"+strconv.Itoa(port), nil); !errors.Is(err, ErrBlocked) {
		t.Fatalf("control err = %v", err)
	}
	if err := f.control("tcp", "[::ffff:169.254.169.254]:80", nil); !errors.Is(err, ErrBlocked) {
		t.Fatalf("control of a mapped metadata address err = %v", err)
	}
}

func TestFetchRefusesARedirectToLoopback(t *testing.T) {
	// The target is another loopback server, on an allowed port: only its
	// address makes it refused.
	target, tap := server(t, htmlHandler(page))
	srv, ap := server(t, http.RedirectHandler(target.URL+"/secret", http.StatusFound))
	cfg := allowing(ap)
	cfg.Ports = append(cfg.Ports, int(tap.Port()))
	if _, _, err := NewFetcher(cfg).Page(context.Background(), srv.URL+"/"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("err = %v, want ErrBlocked", err)
	}
}

func TestFetchRefusesPortsNotAllowed(t *testing.T) {
	f := NewFetcher(FetchConfig{Lookup: func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	}})
	for _, u := range []string{"http://example.com:8080/", "https://example.com:22/", "ftp://example.com/", "file:///etc/passwd", "http://user:pw@example.com/"} {
		if _, _, err := f.Page(context.Background(), u); !errors.Is(err, ErrBlocked) {
			t.Errorf("Page(%s) err = %v, want ErrBlocked", u, err)
		}
	}
}

func TestFetchFollowsAtMostThreeRedirects(t *testing.T) {
	var srv *httptest.Server
	var ap netip.AddrPort
	srv, ap = server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if n > 0 {
			http.Redirect(w, r, srv.URL+"/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		htmlHandler(page)(w, r)
	}))
	f := NewFetcher(allowing(ap))
	if h, _, err := f.Page(context.Background(), srv.URL+"/3"); err != nil || h.Title == "" {
		t.Fatalf("three redirects: %+v, %v", h, err)
	}
	if _, _, err := f.Page(context.Background(), srv.URL+"/4"); !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("four redirects err = %v, want ErrTooManyRedirects", err)
	}
}

func TestFetchReadsAtMostMaxHTMLBytes(t *testing.T) {
	// A head that never ends: the fetch stops at the limit with what it
	// read, instead of reading on.
	var served int64
	srv, ap := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<html><head><title>Big</title><meta name="description" content="`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 64 { // 4 MiB in all
			n, err := w.Write(chunk)
			served += int64(n)
			if err != nil {
				return
			}
		}
	}))
	cfg := allowing(ap)
	cfg.MaxHTMLBytes = 256 << 10
	h, _, err := NewFetcher(cfg).Page(context.Background(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if h.Title != "Big" || len(h.Description) > 4*maxDescription {
		t.Fatalf("head = %q / %d bytes of description", h.Title, len(h.Description))
	}
}

func TestFetchRefusesNonHTML(t *testing.T) {
	srv, ap := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte(page))
	}))
	if _, _, err := NewFetcher(allowing(ap)).Page(context.Background(), srv.URL+"/"); !errors.Is(err, ErrNotHTML) {
		t.Fatalf("err = %v, want ErrNotHTML", err)
	}
}

func TestAllowedAddressesArePublicUnicastOnly(t *testing.T) {
	for a, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1:248:1893:25c8:1946": true,
		"127.0.0.1": false, "::1": false, "10.9.8.7": false, "172.31.255.255": false, "172.32.0.1": true,
		"192.168.0.1": false, "169.254.169.254": false, "100.64.0.1": false, "100.128.0.1": true,
		"0.0.0.0": false, "::": false, "::ffff:10.0.0.1": false, "::ffff:8.8.8.8": true,
		"fe80::1": false, "fd00:ec2::254": false, "ff02::1": false, "224.0.0.251": false, "255.255.255.255": false,
	} {
		if got := allowedAddr(netip.MustParseAddr(a), false); got != want {
			t.Errorf("allowedAddr(%s) = %v, want %v", a, got, want)
		}
	}
}

func TestFetchReadsAPageInItsOwnEncoding(t *testing.T) {
	// "Café" in ISO-8859-1: é is the single byte 0xE9.
	srv, ap := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		_, _ = w.Write([]byte("<html><head><title>Caf\xe9</title></head></html>"))
	}))
	h, _, err := NewFetcher(allowing(ap)).Page(context.Background(), srv.URL+"/")
	if err != nil || h.Title != "Café" {
		t.Fatalf("title = %q, %v", h.Title, err)
	}
}
