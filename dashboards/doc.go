// Package dashboards holds no code: it is Ringcast's Grafana dashboard
// (ringcast.json), Prometheus scrape configuration (prometheus.yml) and
// alert rules (alerts.yml, with their promtool unit tests in
// alerts_test.yml). Its Go tests start real brokers (one on the memory
// engine, one on the redis engine with a redis-server of their own),
// drive every transport, the acl and a limit, and check that every metric
// the dashboard and the rules query is one the broker exports (README.md).
package dashboards
