package linkpreview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/html/charset"
)

// Errors of a fetch. Every refusal wraps one of them.
var (
	// ErrBlocked: the URL's scheme or port is not allowed, or its host is
	// (or resolves to, or redirects to) an address a fetch never reaches.
	ErrBlocked = errors.New("linkpreview: address not allowed")
	// ErrTooManyRedirects: more redirects than FetchConfig.MaxRedirects.
	ErrTooManyRedirects = errors.New("linkpreview: too many redirects")
	// ErrNotHTML: the page is not an HTML document (or not a 2xx answer).
	ErrNotHTML = errors.New("linkpreview: not an HTML page")
	// ErrBadImage: the image is missing, too large, or not a JPEG, PNG or
	// GIF that decodes within the pixel bound.
	ErrBadImage = errors.New("linkpreview: image not usable")
)

// FetchConfig bounds what a fetch may do. Zero values are the documented
// defaults.
type FetchConfig struct {
	// Timeout bounds one fetch (a page or an image) from the first dial to
	// the last byte read, redirects included (default 5 s).
	Timeout time.Duration
	// MaxHTMLBytes is how much of a page is read (default 1 MiB); the head
	// must start within it. A longer page is cut there, safely.
	MaxHTMLBytes int64
	// MaxImageBytes refuses a larger preview image (default 5 MiB, the
	// limit of an attached image).
	MaxImageBytes int64
	// MaxRedirects is how many redirects a fetch follows (default 3).
	MaxRedirects int
	// Ports are the TCP ports a URL may name (default 80 and 443).
	Ports []int
	// Lookup resolves a host name to addresses (default: the system
	// resolver). The fetcher checks every address it connects to, whatever
	// Lookup answers, so it cannot be tricked by DNS rebinding.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// UserAgent is sent with every request (default "MessengerLinkPreview/1.0").
	UserAgent string
	// AllowAddrs is for tests only: exact addresses (their own httptest
	// servers on loopback) a fetch may connect to although they are
	// blocked. cmd/api never sets it, and no environment variable does.
	AllowAddrs []netip.AddrPort
}

func (c *FetchConfig) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.MaxHTMLBytes <= 0 {
		c.MaxHTMLBytes = 1 << 20
	}
	if c.MaxImageBytes <= 0 {
		c.MaxImageBytes = 5 << 20
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = 3
	}
	if len(c.Ports) == 0 {
		c.Ports = []int{80, 443}
	}
	if c.Lookup == nil {
		c.Lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if c.UserAgent == "" {
		c.UserAgent = "MessengerLinkPreview/1.0"
	}
}

// Fetcher fetches pages and images from the public internet only. It
// resolves host names itself and checks the address of every connection
// it opens (also the ones after a redirect), once before dialing and again
// in the dialer's Control hook on the very socket address. No proxy is
// used. Safe for concurrent use.
type Fetcher struct {
	cfg    FetchConfig
	client *http.Client
}

// NewFetcher returns a Fetcher.
func NewFetcher(cfg FetchConfig) *Fetcher {
	cfg.defaults()
	f := &Fetcher{cfg: cfg}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: f.control}
	tr := &http.Transport{
		Proxy: nil, // never: a proxy would dial for us, unchecked
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return f.dial(ctx, dialer, network, addr)
		},
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	f.client = &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return ErrTooManyRedirects
			}
			return f.checkURL(req.URL)
		},
	}
	return f
}

// checkURL refuses URLs a fetch never follows: other schemes, other
// ports, credentials.
func (f *Fetcher) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme %q", ErrBlocked, u.Scheme)
	}
	if u.User != nil || u.Hostname() == "" {
		return fmt.Errorf("%w: no host, or credentials in the URL", ErrBlocked)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("%w: port %q", ErrBlocked, p)
		}
		port = n
	}
	if !slices.Contains(f.cfg.Ports, port) {
		return fmt.Errorf("%w: port %d", ErrBlocked, port)
	}
	return nil
}

func (f *Fetcher) allowed(ap netip.AddrPort) bool {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if slices.Contains(f.cfg.AllowAddrs, ap) {
		return true
	}
	return slices.Contains(f.cfg.Ports, int(ap.Port())) && allowedAddr(ap.Addr(), false)
}

// dial resolves addr's host itself and connects to the first allowed
// address that answers.
func (f *Fetcher) dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBlocked, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: port %q", ErrBlocked, portText)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = f.cfg.Lookup(ctx, host); err != nil {
		return nil, fmt.Errorf("linkpreview: resolve %s: %w", host, err)
	}
	last := fmt.Errorf("%w: %s has no address", ErrBlocked, host)
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a.Unmap(), uint16(port))
		if !f.allowed(ap) {
			last = fmt.Errorf("%w: %s resolves to %s", ErrBlocked, host, ap)
			continue
		}
		c, err := d.DialContext(ctx, network, ap.String())
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

// control checks the socket address itself, just before connect: whatever
// resolved it, this is the address the connection goes to.
func (f *Fetcher) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !f.allowed(ap) {
		return fmt.Errorf("%w: %s", ErrBlocked, address)
	}
	return nil
}

// get fetches u and returns the answer with a body of at most limit bytes
// (more is cut off). The caller closes the body; cancel ends the fetch.
func (f *Fetcher) get(ctx context.Context, raw, accept string) (*http.Response, context.CancelFunc, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBlocked, err)
	}
	if err := f.checkURL(u); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%w: %v", ErrBlocked, err)
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", accept)
	resp, err := f.client.Do(req)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("linkpreview: fetch %s: %w", u.Redacted(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_ = resp.Body.Close()
		cancel()
		return nil, nil, fmt.Errorf("%w: %s answered %d", ErrNotHTML, u.Redacted(), resp.StatusCode)
	}
	return resp, cancel, nil
}

// Page fetches an HTML page and reads its head (at most MaxHTMLBytes of
// the document). It returns the head and the page's final URL (after
// redirects), against which the head's relative links resolve.
func (f *Fetcher) Page(ctx context.Context, raw string) (Head, *url.URL, error) {
	resp, cancel, err := f.get(ctx, raw, "text/html,application/xhtml+xml;q=0.9")
	if err != nil {
		return Head{}, nil, err
	}
	defer cancel()
	defer func() { _ = resp.Body.Close() }()
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "text/html" && mt != "application/xhtml+xml" {
		return Head{}, nil, fmt.Errorf("%w: content type %q", ErrNotHTML, mt)
	}
	// The page's own encoding (from the header, a BOM or a <meta charset>
	// in its first 1 KiB) becomes UTF-8; an unknown one is read as UTF-8.
	var body io.Reader = io.LimitReader(resp.Body, f.cfg.MaxHTMLBytes)
	if r, err := charset.NewReader(body, resp.Header.Get("Content-Type")); err == nil {
		body = r
	}
	h := ParseHead(body)
	return h, resp.Request.URL, nil
}

// imageBytes fetches at most MaxImageBytes of an image.
func (f *Fetcher) imageBytes(ctx context.Context, raw string) ([]byte, error) {
	resp, cancel, err := f.get(ctx, raw, "image/jpeg,image/png,image/gif;q=0.9")
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("linkpreview: read image: %w", err)
	}
	if int64(len(b)) > f.cfg.MaxImageBytes {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBadImage, f.cfg.MaxImageBytes)
	}
	return b, nil
}
