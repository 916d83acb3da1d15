// Package deploy holds Ringcast's deployment examples (haproxy.cfg,
// nginx.conf) and the end-to-end tests that run them: real ringcast
// processes behind a real HAProxy (and nginx), with the memory engine and
// with the redis engine, driven through the load balancer only. It has no
// code of its own; docs/deploy.md explains the setups.
//
// The tests need haproxy, redis-server and nginx on the machine (`make
// test-deps` installs them); they fail, not skip, when one is missing.
// Under -short the tests that start processes are skipped.
package deploy
