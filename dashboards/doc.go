// Package dashboards holds no code: it is Ringcast's Grafana dashboard
// (ringcast.json), Prometheus scrape configuration (prometheus.yml) and
// alert rules (alerts.yml, with their promtool unit tests in
// alerts_test.yml). Its Go tests start a real broker, drive every
// transport, and check that every metric the dashboard and the rules
// query is one the broker exports (README.md).
package dashboards
