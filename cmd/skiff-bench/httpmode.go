package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// Mode "http": skiff's REST API. Tests "put" (PUT /v1/kv/key:<digits> with a
// -d byte raw body) and "get" (GET of the same keys). Each connection is its
// own HTTP/1.1 client with one keep-alive connection, requests one at a time
// (-P must be 1). A reply with a status of 400 or more counts as an error
// reply (a GET of a key never written is a 404: run put first, with the same
// -r).
func httpTests(cfg *config) ([]benchTest, error) {
	if cfg.pipeline != 1 {
		return nil, fmt.Errorf("-mode http sends one request at a time: -P must be 1")
	}
	data := bytes.Repeat([]byte{'x'}, cfg.dataSize)
	var tests []benchTest
	for _, name := range cfg.tests {
		var method string
		switch name {
		case "put":
			method = http.MethodPut
		case "get":
			method = http.MethodGet
		default:
			return nil, fmt.Errorf("unknown test %q for mode http (known: put, get)", name)
		}
		addr, keyspace := cfg.addr, uint64(cfg.keyspace)
		tests = append(tests, benchTest{
			name:  name,
			title: "HTTP " + method + " /v1/kv/{key}",
			open: func(_ int, deadline time.Time) (worker, error) {
				return newHTTPWorker(addr, method, data, keyspace, deadline)
			},
		})
	}
	return tests, nil
}

type httpWorker struct {
	client   *http.Client
	tr       *http.Transport
	base     string
	method   string
	data     []byte
	keyspace uint64
	key      []byte
}

func newHTTPWorker(addr, method string, data []byte, keyspace uint64, deadline time.Time) (*httpWorker, error) {
	tr := &http.Transport{
		MaxIdleConnsPerHost: 1,
		DialContext:         (&net.Dialer{Deadline: deadline}).DialContext,
	}
	w := &httpWorker{
		client: &http.Client{Transport: tr}, tr: tr,
		base: "http://" + addr + "/v1/kv/", method: method, data: data, keyspace: keyspace,
		key: []byte("key:" + randTag),
	}
	return w, nil
}

func (w *httpWorker) do(k int, h *histogram) (int, int, error) {
	errs := 0
	for i := range k {
		if w.keyspace > 0 {
			putDigits(w.key[4:], rand.Uint64N(w.keyspace))
		}
		var body io.Reader
		if w.method == http.MethodPut {
			body = bytes.NewReader(w.data)
		}
		req, err := http.NewRequest(w.method, w.base+string(w.key), body)
		if err != nil {
			return i, errs, err
		}
		start := time.Now()
		res, err := w.client.Do(req)
		if err != nil {
			return i, errs, fmt.Errorf("%s: %w", w.method, err)
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil {
			return i, errs, fmt.Errorf("%s: reading the reply: %w", w.method, err)
		}
		h.record(time.Since(start))
		if res.StatusCode >= 400 {
			errs++
		}
	}
	return k, errs, nil
}

func (w *httpWorker) setDeadline(t time.Time) error {
	w.client.Timeout = time.Until(t)
	if w.client.Timeout <= 0 {
		w.client.Timeout = time.Nanosecond
	}
	return nil
}

func (w *httpWorker) close() error {
	w.tr.CloseIdleConnections()
	return nil
}
