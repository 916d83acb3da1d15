package edge

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync/atomic"
	"time"
)

// Certificate is the server's TLS certificate, read from cert_file and
// key_file and replaced by Reload while connections stay open: each
// handshake takes the certificate current at that moment.
type Certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificate reads the certificate chain and key (PEM).
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	c := &Certificate{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again and, when they hold a valid certificate and
// its key, makes it the one new handshakes use. On error the certificate in
// use stays, and the error says why.
func (c *Certificate) Reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("edge: cannot load tls.cert_file %s and tls.key_file %s (the previous certificate stays in use): %w", c.certFile, c.keyFile, err)
	}
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return fmt.Errorf("edge: tls.cert_file %s: %w", c.certFile, err)
		}
	}
	c.cur.Store(&cert)
	return nil
}

// NotAfter returns the expiry of the certificate in use.
func (c *Certificate) NotAfter() time.Time {
	if l := c.cur.Load().Leaf; l != nil {
		return l.NotAfter
	}
	return time.Time{}
}

// TLSConfig returns a server configuration that serves the current
// certificate, HTTP/1.1 only.
func (c *Certificate) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}
