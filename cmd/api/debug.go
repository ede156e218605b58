package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveDebug serves Go's profiler (/debug/pprof/) and the metrics
// (/metrics) on its own address, never on the public one: profiles show
// internals and cost CPU, metrics show traffic. It returns the listener's
// close function.
func serveDebug(addr string, metrics http.Handler, logger *slog.Logger) (func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			logger.Error("debug listener", "err", err)
		}
	}()
	logger.Info("debug listener (profiler, metrics)", "addr", ln.Addr().String())
	fmt.Printf("profiler: http://%s/debug/pprof/\nmetrics: http://%s/metrics\n", ln.Addr(), ln.Addr())
	return srv.Close, nil
}
