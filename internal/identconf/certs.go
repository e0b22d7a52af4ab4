package identconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"time"
)

// certAuthority issues client certificates for the certificate test. All certificates share
// one key: only the subject matters to the server's user name check.
type certAuthority struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	client *ecdsa.PrivateKey
	pem    []byte // the CA certificate, for ssl_ca_file

	mu    sync.Mutex
	certs map[string]*tls.Certificate
}

func newCA() (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	client, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pghba identconf test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &certAuthority{
		cert: cert, key: key, client: client,
		pem:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		certs: map[string]*tls.Certificate{},
	}, nil
}

// clientCert returns a certificate whose subject is CN=cn (no CN at all when cn is empty).
func (ca *certAuthority) clientCert(cn string) (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c := ca.certs[cn]; c != nil {
		return c, nil
	}
	now := time.Now()
	subj := pkix.Name{CommonName: cn}
	if cn == "" {
		subj = pkix.Name{Organization: []string{"no common name"}}
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(ca.certs) + 2)),
		Subject:      subj,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &ca.client.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ca.client}
	ca.certs[cn] = c
	return c, nil
}
