// Package bench measures Northstar through its full HTTP stack: a real
// HTTP client with keep-alive and a bearer token, the server's middleware,
// the API handlers, the app and the store, on every database engine. It
// has only benchmarks; run them with
//
//	NORTHSTAR_TEST_POSTGRES=postgres://... go test -run '^$' -bench . -benchmem ./internal/bench
package bench
