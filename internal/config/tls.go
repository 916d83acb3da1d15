package config

import (
	"crypto/tls"
	"crypto/x509"
)

// ServerTLS makes the server speak HTTPS and WSS.
type ServerTLS struct {
	// CertFile is the PEM certificate chain; set with KeyFile. "": no TLS.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key; set with CertFile. "": no TLS.
	KeyFile string `yaml:"key_file"`
}

// ClientTLS configures the client side of an outbound TLS connection.
type ClientTLS struct {
	// CAFile holds the PEM certificates of the CAs trusted. "": the
	// system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile is the PEM client certificate; set with KeyFile. "": none.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM client key; set with CertFile. "": none.
	KeyFile string `yaml:"key_file"`
	// InsecureSkipVerify accepts any server certificate. false: verify.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// AllowSelfSigned accepts a self-signed server certificate. false: only
	// certificates that chain to a trusted CA.
	AllowSelfSigned bool `yaml:"allow_self_signed"`
}

// check validates the server TLS files under the key path p.
func (t *ServerTLS) check(k *checker, p string) {
	k.keyPair(p, t.CertFile, t.KeyFile)
}

// check validates the client TLS files under the key path p.
func (t *ClientTLS) check(k *checker, p string) {
	if t.CAFile != "" {
		if pem, ok := k.readFile(join(p, "ca_file"), t.CAFile); ok && !x509.NewCertPool().AppendCertsFromPEM(pem) {
			k.fail(join(p, "ca_file"), "%s holds no PEM certificate", t.CAFile)
		}
	}
	k.keyPair(p, t.CertFile, t.KeyFile)
}

// keyPair checks that the cert_file and key_file under the key path p are
// both set or both empty, and when set are a certificate and its key.
func (k *checker) keyPair(p, cert, key string) {
	switch {
	case cert == "" && key == "":
	case key == "":
		k.fail(join(p, "key_file"), "missing: cert_file needs its key_file")
	case cert == "":
		k.fail(join(p, "cert_file"), "missing: key_file needs its cert_file")
	default:
		certPEM, ok1 := k.readFile(join(p, "cert_file"), cert)
		keyPEM, ok2 := k.readFile(join(p, "key_file"), key)
		if !ok1 || !ok2 {
			return
		}
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			k.fail(join(p, "cert_file"), "%s and %s are not a certificate and its key: %v", cert, key, err)
		}
	}
}
