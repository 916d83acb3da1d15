package egress

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"
)

// ClientTLSFiles is the client side of an outbound TLS connection as the
// configuration file writes it: files to load and what to accept.
type ClientTLSFiles struct {
	CAFile   string // PEM certificates of the CAs trusted; "": the system's roots
	CertFile string // PEM client certificate, with KeyFile; "": none
	KeyFile  string
	// InsecureSkipVerify accepts any server certificate.
	InsecureSkipVerify bool
	// AllowSelfSigned also accepts a server certificate that is signed by
	// its own key and names the server, without a chain to a trusted CA.
	AllowSelfSigned bool
}

// Config loads the files into a tls.Config for a destination's or a
// source's client, or returns nil when f is zero (Go's defaults: the
// system's roots, no client certificate). host is the host of the URL the
// client connects to: with AllowSelfSigned the certificate must name it
// when the connection sent no server name (SNI carries no IP address).
func (f ClientTLSFiles) Config(host string) (*tls.Config, error) {
	if f == (ClientTLSFiles{}) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", f.CAFile)
		}
	}
	if f.CertFile != "" || f.KeyFile != "" {
		pair, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file and tls.key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	switch {
	case f.InsecureSkipVerify:
		cfg.InsecureSkipVerify = true
	case f.AllowSelfSigned:
		// Go verifies a chain or nothing: turn its check off and do it in
		// VerifyConnection, which runs either way.
		cfg.InsecureSkipVerify = true
		roots := cfg.RootCAs
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyOrSelfSigned(cs, roots, host) }
	}
	return cfg, nil
}

// verifyOrSelfSigned accepts the server's certificate when it chains to
// roots (nil: the system's) and names the server, as Go would verify it,
// or when it is self-signed, valid now and names the server. The server is
// the name the connection sent, or host.
func verifyOrSelfSigned(cs tls.ConnectionState, roots *x509.CertPool, host string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	name := cs.ServerName
	if name == "" {
		name = host
	}
	leaf := cs.PeerCertificates[0]
	opts := x509.VerifyOptions{Roots: roots, DNSName: name, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := leaf.Verify(opts)
	if err == nil {
		return nil
	}
	now := time.Now()
	if bytes.Equal(leaf.RawIssuer, leaf.RawSubject) &&
		leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil &&
		now.After(leaf.NotBefore) && now.Before(leaf.NotAfter) &&
		leaf.VerifyHostname(name) == nil {
		return nil
	}
	return fmt.Errorf("tls: the server's certificate is neither trusted nor self-signed for %q: %w", name, err)
}
